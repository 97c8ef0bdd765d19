#include "devices/dma.h"

#include <algorithm>
#include <cstring>

namespace vx86::devices {

namespace {
// Register numbers inside one 8237A (DMA1 port = reg, DMA2 port = 0xC0 + 2 * reg).
enum Reg : unsigned {
    kRegStatusCommand = 0x8,
    kRegRequest = 0x9,
    kRegSingleMask = 0xA,
    kRegMode = 0xB,
    kRegClearFlipFlop = 0xC,
    kRegTempMasterClear = 0xD,
    kRegClearMask = 0xE,
    kRegAllMask = 0xF,
};
}  // namespace

Dma8237Pair::Dma8237Pair(mmu::PhysMemory& mem) : mem_(mem) { reset(); }

void Dma8237Pair::attach(IoBus& bus) {
    bus.attach(kDma1Base, 16, this, kIoSize8);
    bus.attach(kDma2Base, 32, this, kIoSize8);
    bus.attach(0x81, 3, this, kIoSize8);  // ch2, ch3, ch1
    bus.attach(0x87, 1, this, kIoSize8);  // ch0
    bus.attach(0x89, 3, this, kIoSize8);  // ch6, ch7, ch5
    bus.attach(0x8F, 1, this, kIoSize8);  // ch4 (refresh)
}

void Dma8237Pair::reset() {
    for (Channel& c : ch_) c = Channel{};
    master_clear(0);
    master_clear(1);
}

void Dma8237Pair::master_clear(unsigned ctl) {
    Controller& k = ctl_[ctl];
    k.command = 0;
    k.status_tc = 0;
    k.request = 0;
    k.temp = 0;
    k.flip_flop = false;
    k.mask = 0x0F;
}

int Dma8237Pair::page_port_channel(uint16_t port) {
    switch (port) {
        case 0x87: return 0;
        case 0x83: return 1;
        case 0x81: return 2;
        case 0x82: return 3;
        case 0x8F: return 4;
        case 0x8B: return 5;
        case 0x89: return 6;
        case 0x8A: return 7;
        default: return -1;
    }
}

bool Dma8237Pair::masked(unsigned ch) const {
    return ch >= kChannels || (ctl_[ch >> 2].mask & (1u << (ch & 3)));
}

bool Dma8237Pair::channel_ready(unsigned ch) const {
    if (ch >= kChannels) return false;
    if (ctl_[ch >> 2].command & kCmdDisable) return false;
    if (masked(ch)) return false;
    // DMA1 reaches the bus through DMA2's channel 4.
    if (ch < 4 && ((ctl_[1].command & kCmdDisable) || masked(4))) return false;
    return true;
}

uint32_t Dma8237Pair::current_address(unsigned ch) const {
    if (ch >= kChannels) return 0;
    const Channel& c = ch_[ch];
    if (ch < 4) return (uint32_t(c.page) << 16) | c.cur_addr;
    return (uint32_t(c.page & 0xFE) << 16) | (uint32_t(c.cur_addr) << 1);
}

size_t Dma8237Pair::transfer_to_memory(unsigned ch, const uint8_t* data, size_t len) {
    // The buffer is only read in this direction.
    return transfer(ch, const_cast<uint8_t*>(data), len, Dir::kToMemory);
}

size_t Dma8237Pair::transfer_from_memory(unsigned ch, uint8_t* out, size_t len) {
    return transfer(ch, out, len, Dir::kFromMemory);
}

void Dma8237Pair::move(uint32_t phys, uint8_t* buf, size_t n, Dir dir) {
    if (dir == Dir::kToMemory) {
        if (mem_.copy_to(phys, buf, n)) return;
        for (size_t i = 0; i < n; ++i) mem_.copy_to(phys + uint32_t(i), buf + i, 1);
    } else {
        if (mem_.copy_from(phys, buf, n)) return;
        for (size_t i = 0; i < n; ++i)
            if (!mem_.copy_from(phys + uint32_t(i), buf + i, 1)) buf[i] = 0xFF;
    }
}

size_t Dma8237Pair::transfer(unsigned ch, uint8_t* buf, size_t len, Dir dir) {
    if (ch >= kChannels) return 0;
    Channel& c = ch_[ch];
    c.tc = false;
    if (!channel_ready(ch) || (c.mode & kModeMask) == kModeCascade) return 0;

    Controller& k = ctl_[ch >> 2];
    const uint8_t bit = uint8_t(1u << (ch & 3));
    const size_t unit = ch >= 4 ? 2 : 1;
    const uint8_t type = c.mode & kModeTypeMask;
    const bool moves = dir == Dir::kToMemory ? type == kModeWrite : type == kModeRead;
    const bool dec = c.mode & kModeDecrement;

    size_t done = 0;
    while (len - done >= unit) {
        const uint32_t to_tc = uint32_t(c.cur_count) + 1;  // units left, 1..65536
        // Increment mode moves a run up to TC, the page wrap or the buffer end at once;
        // decrement mode goes one unit at a time (bytes of a word stay in ascending order).
        uint32_t run = dec ? 1u : std::min<uint32_t>(to_tc, 0x10000u - c.cur_addr);
        run = uint32_t(std::min<size_t>(run, (len - done) / unit));
        const size_t bytes = size_t(run) * unit;
        if (moves)
            move(current_address(ch), buf + done, bytes, dir);
        else if (dir == Dir::kFromMemory)
            std::memset(buf + done, 0xFF, bytes);
        done += bytes;
        c.cur_addr = uint16_t(dec ? c.cur_addr - run : c.cur_addr + run);
        if (run < to_tc) {
            c.cur_count = uint16_t(c.cur_count - run);
            continue;
        }
        // Terminal count: the counter has rolled over to 0xFFFF.
        c.cur_count = 0xFFFF;
        c.tc = true;
        k.status_tc |= bit;
        k.request &= uint8_t(~bit);
        if (c.mode & kModeAutoInit) {
            c.cur_addr = c.base_addr;
            c.cur_count = c.base_count;
        } else {
            k.mask |= bit;
        }
        break;
    }
    return done;
}

uint8_t Dma8237Pair::reg_read(unsigned ctl, unsigned reg) {
    Controller& k = ctl_[ctl];
    if (reg < 8) {
        Channel& c = ch_[ctl * 4 + (reg >> 1)];
        uint16_t v = (reg & 1) ? c.cur_count : c.cur_addr;
        uint8_t b = k.flip_flop ? uint8_t(v >> 8) : uint8_t(v);
        k.flip_flop = !k.flip_flop;
        return b;
    }
    switch (reg) {
        case kRegStatusCommand: {
            uint8_t v = uint8_t(k.status_tc | (k.request << 4));
            k.status_tc = 0;  // TC bits clear on read
            return v;
        }
        case kRegTempMasterClear: return k.temp;
        case kRegAllMask: return uint8_t(0xF0 | k.mask);
        default: return 0xFF;  // write-only registers
    }
}

void Dma8237Pair::reg_write(unsigned ctl, unsigned reg, uint8_t v) {
    Controller& k = ctl_[ctl];
    if (reg < 8) {
        Channel& c = ch_[ctl * 4 + (reg >> 1)];
        uint16_t& base = (reg & 1) ? c.base_count : c.base_addr;
        uint16_t& cur = (reg & 1) ? c.cur_count : c.cur_addr;
        if (k.flip_flop)
            base = uint16_t((base & 0x00FF) | (v << 8));
        else
            base = uint16_t((base & 0xFF00) | v);
        cur = base;  // writes load the base and the current register together
        k.flip_flop = !k.flip_flop;
        return;
    }
    const unsigned sel = v & 3;
    const uint8_t bit = uint8_t(1u << sel);
    switch (reg) {
        case kRegStatusCommand: k.command = v; break;
        case kRegRequest:
            if (v & 4)
                k.request |= bit;
            else
                k.request &= uint8_t(~bit);
            break;
        case kRegSingleMask:
            if (v & 4)
                k.mask |= bit;
            else
                k.mask &= uint8_t(~bit);
            break;
        case kRegMode: ch_[ctl * 4 + sel].mode = uint8_t(v & 0xFC); break;
        case kRegClearFlipFlop: k.flip_flop = false; break;
        case kRegTempMasterClear: master_clear(ctl); break;
        case kRegClearMask: k.mask = 0; break;
        case kRegAllMask: k.mask = v & 0x0F; break;
        default: break;
    }
}

uint32_t Dma8237Pair::io_read(uint16_t port, unsigned size) {
    if (port < 0x10) return reg_read(0, port);
    if (port >= kDma2Base && port < kDma2Base + 0x20) return reg_read(1, (port - kDma2Base) >> 1);
    int ch = page_port_channel(port);
    return ch >= 0 ? ch_[ch].page : 0xFF;
}

void Dma8237Pair::io_write(uint16_t port, unsigned size, uint32_t value) {
    const uint8_t v = uint8_t(value);
    if (port < 0x10) {
        reg_write(0, port, v);
    } else if (port >= kDma2Base && port < kDma2Base + 0x20) {
        reg_write(1, (port - kDma2Base) >> 1, v);
    } else {
        int ch = page_port_channel(port);
        if (ch >= 0) ch_[ch].page = v;
    }
}

}  // namespace vx86::devices
