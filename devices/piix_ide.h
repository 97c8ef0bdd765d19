// PiixIde: the PIIX3 IDE function (82371SB, device 1 function 1) with bus-master DMA.
//
// Design decisions:
// - Identity 8086:7010, class 01 01 80 (IDE, both channels in compatibility mode, bus-master
//   capable), header type 0. The legacy ports (0x1F0-0x1F7 + 0x3F6, IRQ14; 0x170-0x177 +
//   0x376, IRQ15) are decoded while the command register's I/O space enable (IOSE) and the
//   channel's IDETIM bit 15 (0x40-0x41 primary, 0x42-0x43 secondary) are both set, as the
//   datasheet says; both are 0 at power-on, and firmware (SeaBIOS) sets them. The channels
//   are attached to and detached from the IoBus given to attach() as that changes.
// - BAR4 (BMIBA, 0x20) holds 16 bytes of bus-master registers per SFF-8038i: per channel
//   (primary at +0, secondary at +8) command (bit 0 start/stop, bit 3 read/write control), status
//   (bit 0 active, bit 1 error R/WC, bit 2 interrupt R/WC, bits 5/6 drive DMA capable R/W) and
//   the dword-aligned PRD table pointer. Registers are found from the low four port bits, so the
//   handler is independent of where the BAR sits.
// - The channels' IRQ lines pass through this device (it is their IrqSink): a rising edge of a
//   channel's INTRQ sets that channel's interrupt status bit, then the level goes on to IRQ14/15.
// - DMA: writing start=1 (a 0->1 edge) sets active and rewinds the PRD walk to the table
//   pointer. Whenever the engine is active and the drive has DMARQ, the drive pulls/pushes data
//   through dma_move, which walks PRD entries {le32 address; le16 count (0 = 64 KiB); le16 bit 15
//   EOT} with PhysMemory::copy_to/copy_from. The transfer direction is the drive's (the
//   read/write control bit is stored only). Outcomes, per the SFF-8038i interrupt/active table:
//   drive done with the PRD table used up exactly -> interrupt=1, active=0; done with PRD space
//   left -> interrupt=1, active=1; PRD table too short -> active=0, interrupt=0, error=0 and the
//   drive keeps waiting; a PRD entry or buffer outside RAM (a master abort) -> error=1, active=0,
//   no interrupt. The guest recovers by stopping the engine and resetting the drive.
// - Bus master enable (PCI command bit 2) off: the engine moves nothing.
// - pci_reset() (machine reset) also resets both channels and the bus-master registers.
#pragma once

#include <array>
#include <cstdint>

#include "devices/ide.h"
#include "devices/irq.h"
#include "devices/pci.h"
#include "mmu/memory.h"

namespace vx86::devices {

inline constexpr uint8_t kPiixIdeDevfn = 1 << 3 | 1;
inline constexpr uint8_t kPiixIdetimPrimary = 0x40, kPiixIdetimSecondary = 0x42;
inline constexpr uint16_t kPiixIdetimDecode = 0x8000;

// Bus-master register offsets within a channel's 8 bytes and their bits.
inline constexpr uint8_t kBmCommand = 0, kBmStatus = 2, kBmPrd = 4;
inline constexpr uint8_t kBmCmdStart = 0x01, kBmCmdWrite = 0x08;
inline constexpr uint8_t kBmStActive = 0x01, kBmStError = 0x02, kBmStIrq = 0x04,
                         kBmStDma0 = 0x20, kBmStDma1 = 0x40;

class PiixIde final : public PciDevice, public IoDevice, private IrqSink {
public:
    // `primary_irq`/`secondary_irq`: the lines to the PIC (IRQ14 and IRQ15).
    PiixIde(IrqLine primary_irq, IrqLine secondary_irq, mmu::PhysMemory& mem);

    // Where the legacy ports go once decoding is enabled.
    void attach(IoBus& bus);
    IdeChannel& channel(unsigned i) { return i ? secondary_ : primary_; }

    void config_write(uint8_t off, unsigned size, uint32_t value) override;
    void pci_reset() override;

    // Bus-master registers (BAR4).
    uint32_t io_read(uint16_t port, unsigned size) override;
    void io_write(uint16_t port, unsigned size, uint32_t value) override;

private:
    struct Engine final : IdeDmaEngine {
        PiixIde* owner = nullptr;
        unsigned index = 0;
        uint8_t cmd = 0, status = 0;
        uint32_t prd = 0;
        // PRD walk.
        uint32_t next_entry = 0;  // address of the next PRD entry
        uint32_t addr = 0, left = 0;
        bool eot = false;

        void dma_requested() override;
        size_t dma_move(uint8_t* buf, size_t len, bool to_memory) override;
        void run();
    };

    void set_irq(unsigned irq, bool level) override;
    void update_decode();
    uint8_t bm_read8(unsigned off);
    void bm_write8(unsigned off, uint8_t v);

    IrqLine lines_[2];
    mmu::PhysMemory& mem_;
    IdeChannel primary_, secondary_;
    std::array<Engine, 2> engines_{};
    std::array<bool, 2> level_{};    // channel INTRQ as last seen
    std::array<bool, 2> decoded_{};  // legacy ports attached
    IoBus* io_ = nullptr;
};

}  // namespace vx86::devices
