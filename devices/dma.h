// Dma8237Pair: the PC/AT's two 8237A DMA controllers and their page registers.
//
// Design decisions:
// - One object holds both chips, because the AT wires them together: DMA1 (channels 0-3, byte
//   transfers) at ports 0x00-0x0F cascades into channel 4 of DMA2 (channels 4-7, word
//   transfers) at 0xC0-0xDF. DMA2 sees only address lines A1-A4, so its registers sit on even
//   ports and each odd port aliases the even one below it. A channel of DMA1 can only get the
//   bus while DMA2 is enabled and its channel 4 is unmasked (firmware sets channel 4 to cascade
//   mode and unmasks it at POST), and channel_ready() says exactly that.
// - Page registers (a 74LS612 on the AT) supply address bits 16-23: 0x87 ch0, 0x83 ch1,
//   0x81 ch2, 0x82 ch3, 0x8F ch4 (refresh), 0x8B ch5, 0x89 ch6, 0x8A ch7. Only these eight
//   ports are claimed: 0x80 is the POST code port and belongs to another device, and the other
//   0x8x ports stay free.
// - Word channels (5-7) address words: the 16-bit current address is shifted left by one and
//   the page register's bit 0 is dropped, so a transfer can reach 16 MiB in 128 KiB pages; the
//   count counts words. Byte channels address 64 KiB pages. In both cases the address counter
//   wraps inside its page (a transfer never carries into the page register), as on the AT.
// - Devices do not raise DREQ and wait for cycles: a device that has data calls
//   transfer_to_memory() (a DMA "write" transfer) or transfer_from_memory() (a "read"
//   transfer) with as many bytes as it has, and the controller moves them at once, honouring
//   the mask, the controller-disable bit, the mode (direction, address decrement, auto-init)
//   and stopping at terminal count (TC). The return value is the number of bytes the device
//   handed over or received; terminal_count() tells it whether the last call ended at TC, which
//   is the EOP signal the device would see. A device whose transfer type in the mode register
//   does not match (or a verify transfer) still clocks the counters as the chip would, but no
//   memory is touched; a device reading in that case receives 0xFF (a floating bus). Cascade
//   mode channels do not transfer for devices.
// - At TC the channel's TC status bit is set (cleared when the status register is read), its
//   software request bit is cleared, and then either auto-init reloads the current address and
//   count from the base registers or the channel's mask bit is set, per the datasheet.
// - Memory is reached only through mmu::PhysMemory::copy_to/copy_from. A run that is not
//   entirely RAM is retried byte by byte; bytes that cannot be stored are dropped (reads of
//   them give 0xFF) while the counters still advance, so a bad guest address never crashes.
// - Not modelled: memory-to-memory transfers (command bit 0; the temporary register reads as
//   0 after master clear), DREQ/DACK polarity, priority and compressed timing (stored only).
//   Reads of write-only registers return 0xFF, except port 0x0F/0xDE which returns the mask
//   bits as later PC chipsets do.
#pragma once

#include <cstddef>
#include <cstdint>

#include "devices/io_bus.h"
#include "mmu/memory.h"

namespace vx86::devices {

class Dma8237Pair final : public IoDevice {
public:
    static constexpr unsigned kChannels = 8;
    static constexpr uint16_t kDma1Base = 0x00, kDma2Base = 0xC0;

    // Mode register fields (bits 0-1 select the channel on writes).
    static constexpr uint8_t kModeTypeMask = 0x0C, kModeVerify = 0x00, kModeWrite = 0x04,
                             kModeRead = 0x08;
    static constexpr uint8_t kModeAutoInit = 0x10, kModeDecrement = 0x20;
    static constexpr uint8_t kModeMask = 0xC0, kModeDemand = 0x00, kModeSingle = 0x40,
                             kModeBlock = 0x80, kModeCascade = 0xC0;
    static constexpr uint8_t kCmdDisable = 0x04;

    explicit Dma8237Pair(mmu::PhysMemory& mem);

    // Claims 0x00-0x0F, 0xC0-0xDF and the eight page registers.
    void attach(IoBus& bus);
    void reset();

    // A device writes `len` bytes into RAM through channel `ch` (DMA write transfer).
    size_t transfer_to_memory(unsigned ch, const uint8_t* data, size_t len);
    // A device reads up to `len` bytes from RAM through channel `ch` (DMA read transfer).
    size_t transfer_from_memory(unsigned ch, uint8_t* out, size_t len);
    // True when the last transfer_* call on `ch` ended at terminal count.
    bool terminal_count(unsigned ch) const { return ch < kChannels && ch_[ch].tc; }
    // True when `ch` would be serviced: controller enabled, channel unmasked and, for DMA1,
    // the cascade channel 4 of DMA2 enabled and unmasked.
    bool channel_ready(unsigned ch) const;

    // Introspection for tests and debuggers.
    uint32_t current_address(unsigned ch) const;  // physical address of the next transfer
    uint16_t current_count(unsigned ch) const { return ch < kChannels ? ch_[ch].cur_count : 0; }
    bool masked(unsigned ch) const;

    uint32_t io_read(uint16_t port, unsigned size) override;
    void io_write(uint16_t port, unsigned size, uint32_t value) override;

private:
    struct Channel {
        uint16_t base_addr = 0, cur_addr = 0;
        uint16_t base_count = 0, cur_count = 0;
        uint8_t mode = 0;
        uint8_t page = 0;
        bool tc = false;  // last transfer call ended at TC
    };
    struct Controller {
        uint8_t command = 0;
        uint8_t status_tc = 0;  // TC bits 0-3
        uint8_t request = 0;    // software request bits 0-3
        uint8_t mask = 0x0F;
        uint8_t temp = 0;
        bool flip_flop = false;  // false: next access is the low byte
    };

    enum class Dir : uint8_t { kToMemory, kFromMemory };
    size_t transfer(unsigned ch, uint8_t* buf, size_t len, Dir dir);
    void move(uint32_t phys, uint8_t* buf, size_t n, Dir dir);
    uint8_t reg_read(unsigned ctl, unsigned reg);
    void reg_write(unsigned ctl, unsigned reg, uint8_t v);
    void master_clear(unsigned ctl);
    static int page_port_channel(uint16_t port);

    mmu::PhysMemory& mem_;
    Channel ch_[kChannels];
    Controller ctl_[2];
};

}  // namespace vx86::devices
