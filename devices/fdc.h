// Fdc: an Intel 82077AA floppy disk controller in PC-AT mode, with two drives (A:, B:).
//
// Design decisions:
// - Ports: DOR 0x3F2, TDR 0x3F3, MSR (read) / DSR (write) 0x3F4, FIFO 0x3F5, DIR (read) /
//   CCR (write) 0x3F7. SRA/SRB (0x3F0/0x3F1) exist only in PS/2 mode; in AT mode they are not
//   driven and read 0xFF. Port 0x3F6 is NOT claimed: it is the IDE alternate status register.
// - AT mode: DOR bit 3 (DMA gate) gates both the INT (IRQ6) and DRQ outputs. DOR bit 2 low
//   holds the controller in reset (a hardware reset clears the DOR, so firmware must write it);
//   DSR bit 7 is a self-clearing software reset. Leaving reset: after kResetDelayNs, unless
//   CONFIGURE disabled polling, the controller interrupts and holds a "ready changed" status
//   (ST0 = 0xC0 | drive) for each of drives 0-3, to be collected by four SENSE INTERRUPT
//   STATUS commands. A software reset returns CONFIGURE to its defaults unless LOCK is set and
//   keeps SPECIFY, the data rate and the head positions.
// - Timing through devices::Clock only, with small fixed delays so that a driver which sets
//   up its wait after sending a command still sees the interrupt: seeks and recalibrates
//   complete kSeekDelayNs (20 us) after the command, data commands (READ/WRITE DATA, READ ID,
//   FORMAT) start their execution phase kExecDelayNs (20 us) after the command, and the reset
//   interrupt comes kResetDelayNs (20 us) after reset is released. There is no rotational or
//   step timing beyond that. Motor bits are stored but not required for access.
// - DMA mode: when the execution phase starts, the whole transfer happens at once through the
//   Dma8237Pair on channel 2, sector by sector, and the result phase follows with the
//   interrupt. The DMA controller's terminal count ends the command normally; a command that
//   reaches EOT without TC ends with ST0 abnormal termination and ST1 EN (end of cylinder), as
//   the datasheet says. A channel that is masked (or DOR's DMA gate closed) gives ST1 OR.
//   A write whose TC arrives inside a sector fills the rest of that sector with zeros.
// - PIO (non-DMA) mode, selected by SPECIFY's ND bit: the execution phase shows
//   MSR = RQM | NDMA | CB (| DIO when reading) and the data goes through the FIFO port one byte
//   at a time; the interrupt is raised once when the execution phase starts and cleared by the
//   first data access. Without TC, a PIO transfer always ends at EOT with ST1 EN (drivers such
//   as Linux's treat that as success).
// - The medium is a flat image (BlockDevice) whose size gives the geometry. Sector IDs on a
//   track are (C = current cylinder, H = head, R = 1..sectors, N = 2). A command's C/H/R/N must
//   match an ID: a wrong cylinder gives ST1 ND with ST2 WC (BC for C = 0xFF), any other
//   mismatch (R beyond the track, N != 2, H != head) ST1 ND. A track that does not exist on
//   the medium (head 1 of a single-sided disk, cylinder beyond the last), a data rate that
//   does not match the medium (CCR/DSR bits 1-0: 0 = 500, 1 = 300, 2 = 250 kbps, 3 = 1 Mbps)
//   or FM mode (MFM bit clear) gives ST1 MA. No medium gives ST0 abnormal | NR. A read-only
//   image gives ST1 NW on WRITE DATA and FORMAT.
// - FORMAT TRACK fills the sectors 1..sectors named by the ID fields it receives with the
//   filler byte; ID fields that a flat image cannot hold (N != 2, R outside the track) are
//   accepted and ignored. READ ID reports the sector after the last one accessed.
// - READ DELETED and WRITE DELETED behave like READ DATA and WRITE DATA (flat images hold no
//   deleted-data marks). READ TRACK, VERIFY and the SCAN commands are invalid (ST0 = 0x80).
// - The disk-change line (DIR bit 7, for the drive selected in the DOR) is set at power-on and
//   on every insert or eject, and cleared when the head steps (a seek to a different cylinder,
//   or a recalibrate from a cylinder other than 0) with a medium in the drive.
// - State is plain data; the three kinds of timers are registered once in the constructor.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>

#include "devices/block.h"
#include "devices/clock.h"
#include "devices/dma.h"
#include "devices/io_bus.h"
#include "devices/irq.h"

namespace vx86::devices {

inline constexpr uint16_t kFdcBase = 0x3F0;
inline constexpr unsigned kFdcIrq = 6;
inline constexpr unsigned kFdcDmaChannel = 2;

// A standard PC floppy format, found by image size.
struct FloppyFormat {
    uint32_t bytes;
    uint8_t cylinders, heads, sectors;
    uint8_t cmos_type;  // CMOS drive type of the drive that takes it (1 = 360K ... 5 = 2.88M)
    uint8_t rates;      // bit n set: data rate code n reads this medium
    const char* name;
};
// The format of an image of `bytes` bytes, or nullptr when it is not a PC floppy size.
const FloppyFormat* floppy_format_for_size(uint64_t bytes);

class Fdc final : public IoDevice {
public:
    static constexpr unsigned kDrives = 2;
    static constexpr uint64_t kSeekDelayNs = 20'000;
    static constexpr uint64_t kExecDelayNs = 20'000;
    static constexpr uint64_t kResetDelayNs = 20'000;

    Fdc(IrqLine irq, Dma8237Pair& dma, Clock& clock);

    // Claims 0x3F0-0x3F5 and 0x3F7.
    void attach(IoBus& bus);
    // Hardware reset: DOR = 0 (controller held in reset), defaults everywhere.
    void reset();

    // Puts `image` (not owned; must outlive its use) in `drive` (0 = A:, 1 = B:). Throws
    // std::invalid_argument with a one-line reason when the size is not a floppy format and
    // std::out_of_range for a bad drive number. A null image ejects.
    void insert(unsigned drive, BlockDevice* image);
    void eject(unsigned drive);
    bool has_medium(unsigned drive) const { return drive < kDrives && drives_[drive].image; }
    // CMOS drive type: 0 none, 1 360K, 2 1.2M, 3 720K, 4 1.44M, 5 2.88M. Follows the medium;
    // set_drive_type() declares an empty drive.
    uint8_t drive_type(unsigned drive) const { return drive < kDrives ? drives_[drive].type : 0; }
    void set_drive_type(unsigned drive, uint8_t cmos_type);

    uint32_t io_read(uint16_t port, unsigned size) override;
    void io_write(uint16_t port, unsigned size, uint32_t value) override;

private:
    enum class Phase : uint8_t { kCommand, kBusy, kExecPio, kResult };
    enum class Cmd : uint8_t {
        kInvalid, kReadData, kWriteData, kReadId, kFormat, kRecalibrate, kSenseInt, kSpecify,
        kSenseDrive, kSeek, kRelSeek, kVersion, kDumpreg, kPerpendicular, kConfigure, kLock,
    };
    struct Drive {
        BlockDevice* image = nullptr;
        int8_t format = -1;  // index into the format table, -1 without medium
        uint8_t type = 0;
        uint8_t cyl = 0;     // present cylinder (PCN)
        uint8_t next_r = 1;  // sector under the head next (READ ID)
        bool changed = true;
        bool busy = false;   // seeking, until SENSE INTERRUPT collects it
        bool status_pending = false;
        uint8_t st0 = 0;
        uint8_t seek_target = 0;
        bool seek_recal = false;
    };
    struct Op {
        Cmd cmd = Cmd::kInvalid;
        bool mt = false, mfm = false, write = false, pio = false;
        uint8_t drive = 0, hds = 0;
        uint8_t c = 0, h = 0, r = 0, n = 0, eot = 0;
        uint8_t sc = 0, fill = 0;
    };

    bool in_reset() const { return !(dor_ & 0x04); }
    uint8_t msr() const;
    void controller_reset();
    void on_reset_done();
    void on_seek_done(unsigned drive);
    void on_exec();
    void set_int(bool v);
    void update_irq();
    bool drive_exists(unsigned drive) const;
    void step_to(Drive& d, uint8_t cyl);

    void fifo_write(uint8_t v);
    uint8_t fifo_read();
    void execute();
    void set_result(std::initializer_list<uint8_t> bytes, bool irq);

    // Data commands.
    bool check_medium();  // false: result already set
    bool locate_sector();
    uint64_t sector_offset() const;
    bool next_sector();
    void finish_rw(uint8_t st0, uint8_t st1, uint8_t st2);
    void run_dma_rw();
    bool load_pio_sector();
    void pio_data_done();
    void apply_format(const uint8_t* ids, size_t len);

    IrqLine irq_;
    Dma8237Pair& dma_;
    Clock& clock_;
    TimerId exec_timer_, reset_timer_;
    std::array<TimerId, 4> seek_timer_{};

    uint8_t dor_ = 0, tdr_ = 0, rate_ = 2, precomp_ = 0;
    std::array<uint8_t, 2> specify_{};
    uint8_t config_ = 0x20, pretrk_ = 0, perp_ = 0, last_eot_ = 0;
    bool lock_ = false;
    bool int_ = false, irq_level_ = false;

    Phase phase_ = Phase::kCommand;
    Cmd cmd_id_ = Cmd::kInvalid;
    std::array<uint8_t, 9> cmd_{};
    uint8_t cmd_len_ = 0, cmd_need_ = 0;
    std::array<uint8_t, 10> res_{};
    uint8_t res_len_ = 0, res_pos_ = 0;
    Op op_;
    std::array<uint8_t, 1024> pio_buf_{};
    uint16_t pio_pos_ = 0, pio_len_ = 0;
    bool pio_to_host_ = false;

    std::array<Drive, 4> drives_{};
};

}  // namespace vx86::devices
