// PCI: configuration mechanism #1 (ports 0xCF8/0xCFC), bus 0, and the PciDevice base class.
//
// Design decisions:
// - A PciDevice owns its 256-byte configuration space as plain bytes plus a write mask (which
//   bits the guest may change) and a write-1-to-clear mask (status bits). The default
//   config_read/config_write implement the standard header from those arrays, including BAR
//   sizing (write all ones, read back the size mask), the expansion ROM BAR and the command
//   register; devices override them only for device-specific registers and call the base.
// - BARs are declared with the handler that serves them (an IoDevice for I/O BARs, an
//   MmioHandler for memory BARs, or a ROM image for the expansion ROM). The bus maps and unmaps
//   the ranges on the IoBus and in PhysMemory whenever a BAR or the command register's I/O or
//   memory enable changes, so devices never deal with addresses they were moved to: an I/O
//   handler sees the absolute port, an MMIO handler the absolute physical address, and
//   bar_base() tells where a BAR is now.
// - What gets mapped: a BAR is live when its decode enable (command bit 0 for I/O, bit 1 for
//   memory and the ROM, plus the ROM's own enable bit 0) is on, its base is not 0 and its range
//   neither wraps nor touches the last byte of its space (0xFFFF for I/O, 0xFFFFFFFF for
//   memory: that is where a BAR being sized points). Anything else the guest programs is mapped
//   as programmed, even over RAM or another BAR (the newest mapping wins in PhysMemory; on the
//   IoBus, detaching an I/O BAR leaves its ports unclaimed).
// - Memory BARs and the ROM BAR are at least one 4 KiB page (PhysMemory maps whole pages), so
//   a smaller declared size is rounded up; the guest sees the rounded size when sizing.
// - Interrupts: a device drives its INTx# pin (config 0x3D) with set_intx(level). The bus hands
//   the level to its IntxRouter (the PIIX3's PIRQ routing), keyed by (device number, pin), so
//   the swizzle and routing registers live in the chipset, not here.
// - The bus is only bus 0 (an i440FX PC has no bridges). Configuration cycles to absent devices
//   read all ones. Device numbers 0..31, functions 0..7; devfn = device << 3 | function.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <vector>

#include "devices/io_bus.h"
#include "mmu/memory.h"

namespace vx86::devices {

class PciBus;

// Standard header offsets.
enum PciReg : uint8_t {
    kPciVendor = 0x00, kPciDevice = 0x02, kPciCommand = 0x04, kPciStatus = 0x06,
    kPciRevision = 0x08, kPciProgIf = 0x09, kPciSubclass = 0x0A, kPciClass = 0x0B,
    kPciCacheLine = 0x0C, kPciLatency = 0x0D, kPciHeaderType = 0x0E, kPciBar0 = 0x10,
    kPciSubsysVendor = 0x2C, kPciSubsysId = 0x2E, kPciRomBar = 0x30, kPciCapPtr = 0x34,
    kPciIntLine = 0x3C, kPciIntPin = 0x3D,
};
inline constexpr uint16_t kPciCmdIo = 1u << 0, kPciCmdMem = 1u << 1, kPciCmdMaster = 1u << 2,
                          kPciCmdIntxDisable = 1u << 10;
inline constexpr uint16_t kPciStatusIntx = 1u << 3;

enum class BarKind : uint8_t { kNone, kIo, kMem32, kMem32Prefetch };

class PciDevice {
public:
    // class_code = class << 16 | subclass << 8 | prog_if.
    PciDevice(uint16_t vendor, uint16_t device, uint8_t revision, uint32_t class_code,
              uint8_t header_type = 0);
    virtual ~PciDevice() = default;
    PciDevice(const PciDevice&) = delete;
    PciDevice& operator=(const PciDevice&) = delete;

    // `off` is aligned to `size` (1, 2 or 4) and < 256. Overrides call the base for the
    // standard header.
    virtual uint32_t config_read(uint8_t off, unsigned size);
    virtual void config_write(uint8_t off, unsigned size, uint32_t value);
    // Machine reset: the standard header returns to its power-on values (BARs 0, command 0).
    virtual void pci_reset();

    // Where BAR `i` (0..5, or 6 for the ROM) is mapped now; 0 when unassigned or disabled.
    uint32_t bar_base(unsigned i) const;
    uint16_t command() const { return uint16_t(cfg_[kPciCommand] | cfg_[kPciCommand + 1] << 8); }
    bool bus_master() const { return command() & kPciCmdMaster; }
    // Drives this function's INTx# pin (the pin in config 0x3D; none when it is 0).
    void set_intx(bool level);
    uint8_t devfn() const { return devfn_; }

protected:
    // Declares BAR `i` (0..5) of `size` bytes (a power of two; >= 4 for I/O, >= 16 for memory).
    // The handler gets absolute ports/addresses. I/O BARs are registered with `io_sizes`.
    void declare_io_bar(unsigned i, uint32_t size, IoDevice* dev, uint8_t io_sizes = kIoSize8);
    void declare_mem_bar(unsigned i, uint32_t size, mmu::MmioHandler* h, bool prefetch = false);
    // Declares the expansion ROM BAR carrying `image` (mapped read-only when enabled).
    void declare_rom(std::vector<uint8_t> image);
    // Sets a config byte/word/dword at power-on (also kept for pci_reset()).
    void set_cfg8(uint8_t off, uint8_t v);
    void set_cfg16(uint8_t off, uint16_t v);
    void set_cfg32(uint8_t off, uint32_t v);
    // Marks bits the guest may write (default: command, cache line, latency, interrupt line).
    void set_wmask8(uint8_t off, uint8_t mask) { wmask_[off] = mask; }
    // Marks bits that a guest write of 1 clears (default: the status register's error bits).
    void set_w1c8(uint8_t off, uint8_t mask) { w1c_[off] = mask; }
    uint8_t cfg8(uint8_t off) const { return cfg_[off]; }
    uint16_t cfg16(uint8_t off) const { return uint16_t(cfg_[off] | cfg_[off + 1] << 8); }
    uint32_t cfg32(uint8_t off) const {
        return uint32_t(cfg_[off]) | uint32_t(cfg_[off + 1]) << 8 | uint32_t(cfg_[off + 2]) << 16 |
               uint32_t(cfg_[off + 3]) << 24;
    }

private:
    friend class PciBus;
    struct Bar {
        BarKind kind = BarKind::kNone;
        uint32_t size = 0;
        IoDevice* io = nullptr;
        uint8_t io_sizes = kIoSize8;
        mmu::MmioHandler* mmio = nullptr;
        uint32_t mapped = 0;  // base currently mapped (0: none)
    };
    std::array<uint8_t, 256> cfg_{};
    std::array<uint8_t, 256> wmask_{};
    std::array<uint8_t, 256> w1c_{};
    std::array<uint8_t, 256> power_on_{};
    std::array<Bar, 6> bars_{};
    std::vector<uint8_t> rom_;
    uint32_t rom_mapped_ = 0;
    PciBus* bus_ = nullptr;
    uint8_t devfn_ = 0;
    bool intx_level_ = false;
    bool intx_routed_ = false;  // level last handed to the router (after INTx disable)
};

// Maps (device number, INTx pin 1..4, level) to a system IRQ: the PIIX3 implements it.
class IntxRouter {
public:
    virtual ~IntxRouter() = default;
    virtual void route_intx(unsigned device, unsigned pin, bool level) = 0;
};

class PciBus final : public IoDevice {
public:
    PciBus(IoBus& io, mmu::PhysMemory& mem);
    ~PciBus() override;

    // Claims 0xCF8-0xCFF on the I/O bus. 0xCF9 (a byte port inside the address register) is
    // the PIIX3's reset control register: writing bit 2 (RCPU) as 1 asks for a reset, hard when
    // bit 1 (SRST/HRST select) is set.
    void attach();
    void set_reset_request(std::function<void(bool hard)> cb) { reset_request_ = std::move(cb); }
    // Plugs `dev` in at devfn (device << 3 | function). The device must outlive the bus.
    void add(unsigned devfn, PciDevice* dev);
    void set_intx_router(IntxRouter* r) { router_ = r; }
    // Resets every device's configuration space and unmaps their BARs.
    void reset();

    PciDevice* find(unsigned devfn) const { return devfn < 256 ? devs_[devfn] : nullptr; }
    // Configuration access as the host bridge makes it (used by 0xCFC and by tests).
    uint32_t config_read(unsigned devfn, uint8_t off, unsigned size);
    void config_write(unsigned devfn, uint8_t off, unsigned size, uint32_t value);

    uint32_t io_read(uint16_t port, unsigned size) override;
    void io_write(uint16_t port, unsigned size, uint32_t value) override;

private:
    friend class PciDevice;
    void remap(PciDevice& dev);
    void route(PciDevice& dev, bool level);

    IoBus& io_;
    mmu::PhysMemory& mem_;
    IntxRouter* router_ = nullptr;
    std::array<PciDevice*, 256> devs_{};
    uint32_t address_ = 0;  // 0xCF8
    uint8_t reset_control_ = 0;  // 0xCF9
    std::function<void(bool hard)> reset_request_;
};

}  // namespace vx86::devices
