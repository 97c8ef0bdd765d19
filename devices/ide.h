// IdeChannel: one ATA/ATAPI channel (a cable with a master and a slave drive).
//
// Design decisions:
// - A channel owns both drives' state. Each drive keeps its own copy of the task file because
//   the two can differ (after a reset each loads its own signature), but every write to a
//   command block register reaches both, as on the cable; only the selected drive answers
//   reads and executes commands. The LBA48 "previous" bytes (the HOB values) are kept per
//   register: a write shifts the current value into it, and a read with HOB set returns it.
// - Commands complete at once, inside the write to the command register (or to the data port
//   that ends a block): the interrupt is raised before the guest's OUT instruction returns, so
//   the CPU takes it at the next instruction boundary. BSY is therefore only seen while SRST is
//   held. Guests poll "not BSY" then DRQ, or wait for the IRQ; both work without a Clock.
// - INTRQ: a channel-level interrupt pending flag, set when a drive asks for service, cleared
//   by a read of the status register (not alternate status), by a command write and by reset.
//   The IrqLine follows `pending && !nIEN` as a level; the 8259 (edge mode for IRQ14/15) sees
//   the rising edge. A second request while one is pending produces no new edge, as on the wire.
// - PIO moves data through a block buffer: one sector (READ/WRITE SECTORS), one multiple block
//   (READ/WRITE MULTIPLE) or one ATAPI DRQ chunk (bounded by the byte count limit). The data
//   port takes 16- and 32-bit accesses (a 32-bit access is two words); an 8-bit access moves a
//   whole word and returns its low byte, as the 16-bit bus does.
// - Data streams are byte ranges of the image (BlockDevice is byte addressed), never whole
//   transfers in memory: an LBA48 command may ask for 32 MiB and a READ(12) for terabytes.
// - DMA: a DMA command leaves the drive with DMARQ asserted (status DRDY|DRQ) and tells the
//   IdeDmaEngine (the PIIX bus master). The engine calls dma_service() once it is started; the
//   drive then pulls or pushes 64 KiB chunks through IdeDmaEngine::dma_move. When the engine
//   stops short (PRD table exhausted, memory fault) the drive keeps its place and waits, as a
//   real drive does, until the guest restarts the engine or resets the drive.
// - Errors: an address past the end (or an invalid CHS address) is IDNF, a write to read-only
//   media is ABRT (the error register's WP bit exists only for removable ATA media; bit 6 is
//   UNC on a fixed disk), a failing host read or write is UNC. Unknown commands are ABRT.
// - ATAPI (atapi.cpp): the packet protocol with the interrupt reason in the sector count
//   register (bit 0 CoD, bit 1 IO), the byte count in LBA mid/high, per-drive sense data and a
//   one-shot UNIT ATTENTION after a medium is inserted. The BlockDevice of a CD is its medium;
//   the channel never owns images (the machine does).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "devices/block.h"
#include "devices/io_bus.h"
#include "devices/irq.h"

namespace vx86::devices {

inline constexpr uint16_t kIdePrimaryBase = 0x1F0, kIdePrimaryCtl = 0x3F6;
inline constexpr uint16_t kIdeSecondaryBase = 0x170, kIdeSecondaryCtl = 0x376;
inline constexpr unsigned kIdePrimaryIrq = 14, kIdeSecondaryIrq = 15;

// Status register.
inline constexpr uint8_t kAtaStBsy = 0x80, kAtaStDrdy = 0x40, kAtaStDf = 0x20, kAtaStDsc = 0x10,
                         kAtaStDrq = 0x08, kAtaStErr = 0x01;
// Error register.
inline constexpr uint8_t kAtaErUnc = 0x40, kAtaErIdnf = 0x10, kAtaErAbrt = 0x04;
// Device control register.
inline constexpr uint8_t kAtaCtlNien = 0x02, kAtaCtlSrst = 0x04, kAtaCtlHob = 0x80;

inline constexpr uint32_t kAtaSectorSize = 512;
inline constexpr uint32_t kCdSectorSize = 2048;

// The bus-master side of a DMA transfer (PiixIde implements it per channel).
class IdeDmaEngine {
public:
    virtual ~IdeDmaEngine() = default;
    // The selected drive asserts DMARQ: if the engine is running it calls dma_service() now.
    virtual void dma_requested() = 0;
    // Moves `len` bytes between `buf` and guest memory at the engine's current PRD position
    // (to_memory: device -> memory). Returns the bytes moved; fewer than `len` means the engine
    // stopped (not running, PRD table ended, memory fault) and the drive must wait.
    virtual size_t dma_move(uint8_t* buf, size_t len, bool to_memory) = 0;
};

class IdeChannel final : public IoDevice {
public:
    // `base`: command block (8 ports), `ctl`: device control / alternate status (1 port; the
    // next port, the old drive address register, is left to the floppy controller's DIR).
    IdeChannel(uint16_t base, uint16_t ctl, IrqLine irq);

    // unit 0 = master, 1 = slave. A hard disk uses 512-byte sectors (a trailing partial sector
    // of the image is not addressable); a CD-ROM's medium uses 2048-byte sectors and may be
    // nullptr (an empty drive). Call before reset() / guest use; images must outlive the channel.
    void attach_disk(unsigned unit, BlockDevice* dev);
    void attach_cdrom(unsigned unit, BlockDevice* medium);
    // Host-side medium change of a CD-ROM drive: insertion (tray closed) arms UNIT ATTENTION
    // (MEDIUM MAY HAVE CHANGED) once and a "new media" event; eject removes the medium regardless
    // of the guest's PREVENT ALLOW MEDIUM REMOVAL lock (the host user decides). A guest eject
    // (START STOP UNIT) only opens the tray: the medium stays attached but is not present until
    // the guest loads it again or the host inserts one.
    void insert_medium(unsigned unit, BlockDevice* medium);
    void eject(unsigned unit);
    // The CD-ROM medium (or disk image) of `unit`; nullptr when empty.
    BlockDevice* medium(unsigned unit) const;
    bool present(unsigned unit) const;

    // Claims base..base+7 (data port with 8/16/32-bit accesses) and ctl.
    void attach(IoBus& bus);
    void detach(IoBus& bus);
    // Hardware reset (RESET-): power-on settings, signatures, no interrupt.
    void reset();

    void set_dma_engine(IdeDmaEngine* e) { dma_ = e; }
    // True while a DMA command waits for the engine to move data.
    bool dma_pending() const { return phase_ == Phase::kDma; }
    // Called by the running engine: moves the pending DMA data and completes the command.
    void dma_service();

    uint32_t io_read(uint16_t port, unsigned size) override;
    void io_write(uint16_t port, unsigned size, uint32_t value) override;

private:
    enum class Kind : uint8_t { kNone, kDisk, kCdrom };
    enum class Phase : uint8_t { kIdle, kPioIn, kPioOut, kPacket, kDma };

    struct Reg {  // a task file register with its LBA48 previous value
        uint8_t cur = 0, prev = 0;
        void write(uint8_t v) {
            prev = cur;
            cur = v;
        }
    };

    struct Drive {
        Kind kind = Kind::kNone;
        BlockDevice* dev = nullptr;
        Reg feature, nsect, lbal, lbam, lbah;
        uint8_t device = 0;
        uint8_t status = 0, error = 0;
        // Settings (power-on defaults restored by reset(), kept across SRST).
        uint8_t mult = 0;  // sectors per READ/WRITE MULTIPLE block (0: disabled)
        uint8_t heads = 16, spt = 63;  // current CHS translation
        uint8_t mwdma_sel = 0x04, udma_sel = 0;  // selected DMA mode (one bit in either)
        bool write_cache = true;
        bool standby = false;
        // ATAPI.
        uint8_t sense_key = 0, asc = 0, ascq = 0;
        bool unit_attention = false;
        bool locked = false;
        bool tray_open = false;
        uint8_t media_event = 0;  // pending GET EVENT STATUS media event code (0: none)
    };

    Drive& sel() { return drives_[select_]; }
    bool any_present() const { return drives_[0].kind != Kind::kNone || drives_[1].kind != Kind::kNone; }
    void set_intrq();
    void update_irq();
    void set_signature(Drive& d);
    void soft_reset_drive(Drive& d);
    void write_command(uint8_t cmd);
    void execute_disk(Drive& d, uint8_t cmd);
    void execute_cdrom(Drive& d, uint8_t cmd);
    bool common_command(Drive& d, uint8_t cmd);

    // ATA helpers (ide.cpp).
    uint64_t disk_sectors(const Drive& d) const;
    uint32_t cur_cylinders(const Drive& d) const;
    bool decode_address(Drive& d, bool lba48, uint64_t& lba, uint32_t& count);
    void ata_rw(Drive& d, bool lba48, bool write, uint32_t block_sectors, bool dma);
    void ata_done(Drive& d);
    void ata_error(Drive& d, uint8_t err);
    void identify_disk(Drive& d);
    void set_features(Drive& d);
    void fill_ids(std::array<uint16_t, 256>& w, unsigned unit, const char* model) const;
    void send_identify(Drive& d, const std::array<uint16_t, 256>& w);
    void start_buffer_pio_in(Drive& d);  // resp_ as one PIO data-in block (IDENTIFY)

    // Data port.
    uint16_t data_read16();
    void data_write16(uint16_t v);
    void pio_block_read_done();
    void pio_block_write_done();
    bool source_read(uint8_t* dst, size_t n);

    // ATAPI (atapi.cpp).
    void identify_packet(Drive& d);
    void packet_command(Drive& d);
    void atapi_execute();
    void atapi_ok(Drive& d);
    void atapi_check(Drive& d, uint8_t key, uint8_t asc, uint8_t ascq = 0);
    void atapi_reply(Drive& d, size_t alloc);  // resp_ (truncated to alloc) as data-in
    void atapi_read(Drive& d, uint64_t lba, uint64_t blocks);
    void atapi_start_data(Drive& d);
    void atapi_next_chunk(Drive& d);
    bool medium_ready(const Drive& d) const;
    uint64_t cd_blocks(const Drive& d) const;
    void atapi_mode_sense(Drive& d, const uint8_t* cdb, bool ten);
    void atapi_read_toc(Drive& d, const uint8_t* cdb);
    void atapi_get_configuration(Drive& d, const uint8_t* cdb);
    void atapi_event_status(Drive& d, const uint8_t* cdb);
    void atapi_start_stop(Drive& d, const uint8_t* cdb);

    uint16_t base_, ctl_;
    IrqLine irq_;
    IdeDmaEngine* dma_ = nullptr;
    std::array<Drive, 2> drives_{};
    unsigned select_ = 0;
    uint8_t devctl_ = 0;
    bool intrq_ = false;
    bool line_ = false;

    // The command in progress (one per channel: the drives share the cable).
    Phase phase_ = Phase::kIdle;
    unsigned active_ = 0;          // drive executing it
    bool atapi_cmd_ = false;       // a packet command (completion uses the interrupt reason)
    bool to_device_ = false;       // data flows host -> drive
    bool from_image_ = false;      // stream source: image (else resp_)
    uint64_t img_base_ = 0;        // byte offset of the stream in the image
    uint64_t total_ = 0, pos_ = 0; // stream length and bytes done (complete blocks / chunks)
    uint32_t block_ = 0;           // bytes per PIO block (ATA) or DRQ chunk limit (ATAPI)
    uint16_t byte_limit_ = 0;      // ATAPI byte count limit of the PACKET command
    bool atapi_dma_ = false;       // PACKET with the DMA feature bit
    std::vector<uint8_t> resp_;    // replies built in memory (IDENTIFY, ATAPI data)
    std::vector<uint8_t> pio_;     // the current PIO block
    uint32_t pio_pos_ = 0, pio_len_ = 0;
    std::array<uint8_t, 12> cdb_{};
    std::vector<uint8_t> scratch_; // DMA chunk
};

}  // namespace vx86::devices
