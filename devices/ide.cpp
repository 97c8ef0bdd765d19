// IdeChannel: registers, the ATA command set and the PIO/DMA data paths (see ide.h for the
// design; the ATAPI packet commands are in atapi.cpp).
//
// Facts used (ATA/ATAPI-6, T13/1410D):
// - Command block: base+0 data, +1 error/features, +2 sector count, +3 LBA low (sector
//   number), +4 LBA mid (cylinder low), +5 LBA high (cylinder high), +6 device (bit 6 LBA,
//   bit 4 DEV, bits 3:0 head or LBA 27:24), +7 status/command. Control block: alternate status
//   (read, does not clear the interrupt) / device control (write: bit 1 nIEN, bit 2 SRST,
//   bit 7 HOB; a write to any command block register clears HOB).
// - Signatures after reset and EXECUTE DEVICE DIAGNOSTIC: sector count 01h, LBA low 01h, LBA
//   mid/high 00h/00h (ATA) or 14h/EBh (PACKET device), device 00h, error 01h (passed). An ATA
//   disk then reads status 50h (DRDY|DSC); a PACKET device 00h. A PACKET device aborts IDENTIFY
//   DEVICE and READ SECTOR(S) and leaves its signature in the registers.
// - PIO data-in: the device raises INTRQ with DRQ set before every block, none at the end.
//   PIO data-out: the first block is requested without an interrupt; every later block and the
//   completion raise INTRQ. Non-data commands raise INTRQ at completion. DEVICE RESET does not.
// - Sector count 0 means 256 (28-bit) or 65536 (48-bit commands); 48-bit addresses take the
//   previous ("HOB") contents of the registers as bits 47:24 and 15:8 of the count.
// - CHS: LBA = (cylinder * heads + head) * sectors_per_track + sector - 1, with the translation
//   set by INITIALIZE DEVICE PARAMETERS (sector count = sectors per track, device bits 3:0 =
//   heads - 1); the default is 16 heads, 63 sectors, cylinders = capacity / 1008 up to 16383.
#include "devices/ide.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace vx86::devices {

namespace {

constexpr uint32_t kMaxMultiple = 16;
constexpr uint32_t kDmaChunk = 64 * 1024;
constexpr uint64_t kLba28Max = 0x0FFFFFFF;
constexpr uint32_t kDefaultHeads = 16, kDefaultSpt = 63, kMaxDefaultCylinders = 16383;
constexpr uint64_t kMaxChsSectors = 16514064;  // 16383 * 16 * 63

enum : uint8_t {
    kCmdNop = 0x00, kCmdDeviceReset = 0x08,
    kCmdReadSectors = 0x20, kCmdReadSectorsNr = 0x21, kCmdReadSectorsExt = 0x24,
    kCmdReadDmaExt = 0x25, kCmdReadMultipleExt = 0x29,
    kCmdWriteSectors = 0x30, kCmdWriteSectorsNr = 0x31, kCmdWriteSectorsExt = 0x34,
    kCmdWriteDmaExt = 0x35, kCmdWriteMultipleExt = 0x39,
    kCmdVerify = 0x40, kCmdVerifyNr = 0x41, kCmdVerifyExt = 0x42,
    kCmdDiagnose = 0x90, kCmdInitParams = 0x91,
    kCmdPacket = 0xA0, kCmdIdentifyPacket = 0xA1,
    kCmdReadMultiple = 0xC4, kCmdWriteMultiple = 0xC5, kCmdSetMultiple = 0xC6,
    kCmdReadDma = 0xC8, kCmdReadDmaNr = 0xC9, kCmdWriteDma = 0xCA, kCmdWriteDmaNr = 0xCB,
    kCmdStandbyImm = 0xE0, kCmdIdleImm = 0xE1, kCmdStandby = 0xE2, kCmdIdle = 0xE3,
    kCmdCheckPower = 0xE5, kCmdSleep = 0xE6, kCmdFlush = 0xE7, kCmdFlushExt = 0xEA,
    kCmdIdentify = 0xEC, kCmdSetFeatures = 0xEF,
};

}  // namespace

IdeChannel::IdeChannel(uint16_t base, uint16_t ctl, IrqLine irq) : base_(base), ctl_(ctl), irq_(irq) {
    pio_.resize(0x10000);
    reset();
}

// ---------------------------------------------------------------------------------------------
// Drives and media

void IdeChannel::attach_disk(unsigned unit, BlockDevice* dev) {
    Drive& d = drives_[unit & 1];
    d = Drive{};
    d.kind = dev ? Kind::kDisk : Kind::kNone;
    d.dev = dev;
    soft_reset_drive(d);
}

void IdeChannel::attach_cdrom(unsigned unit, BlockDevice* medium) {
    Drive& d = drives_[unit & 1];
    d = Drive{};
    d.kind = Kind::kCdrom;
    d.dev = medium;
    soft_reset_drive(d);
}

void IdeChannel::insert_medium(unsigned unit, BlockDevice* medium) {
    Drive& d = drives_[unit & 1];
    if (d.kind != Kind::kCdrom) return;
    d.dev = medium;
    d.tray_open = false;
    if (medium) {
        d.unit_attention = true;
        d.media_event = 2;  // NewMedia
    }
}

void IdeChannel::eject(unsigned unit) {
    Drive& d = drives_[unit & 1];
    if (d.kind != Kind::kCdrom) return;
    if (d.dev) d.media_event = 3;  // MediaRemoval
    d.dev = nullptr;
    d.unit_attention = false;
}

BlockDevice* IdeChannel::medium(unsigned unit) const { return drives_[unit & 1].dev; }
bool IdeChannel::present(unsigned unit) const { return drives_[unit & 1].kind != Kind::kNone; }

void IdeChannel::attach(IoBus& bus) {
    bus.attach(base_, 1, this, kIoSize8 | kIoSize16 | kIoSize32);
    bus.attach(uint16_t(base_ + 1), 7, this, kIoSize8);
    bus.attach(ctl_, 1, this, kIoSize8);
}

void IdeChannel::detach(IoBus& bus) {
    bus.detach(base_, 8);
    bus.detach(ctl_, 1);
}

void IdeChannel::reset() {
    phase_ = Phase::kIdle;
    devctl_ = 0;
    intrq_ = false;
    select_ = 0;
    for (Drive& d : drives_) {
        Drive fresh{};
        fresh.kind = d.kind;
        fresh.dev = d.dev;
        d = fresh;
        soft_reset_drive(d);
    }
    update_irq();
}

void IdeChannel::set_signature(Drive& d) {
    d.nsect = Reg{1, 0};
    d.lbal = Reg{1, 0};
    bool atapi = d.kind == Kind::kCdrom;
    d.lbam = Reg{uint8_t(atapi ? 0x14 : 0x00), 0};
    d.lbah = Reg{uint8_t(atapi ? 0xEB : 0x00), 0};
    d.device = 0;
}

void IdeChannel::soft_reset_drive(Drive& d) {
    if (d.kind == Kind::kNone) return;
    set_signature(d);
    d.status = d.kind == Kind::kDisk ? uint8_t(kAtaStDrdy | kAtaStDsc) : uint8_t(0);
    d.error = 0x01;
    d.standby = false;
}

// ---------------------------------------------------------------------------------------------
// Interrupt

void IdeChannel::set_intrq() {
    intrq_ = true;
    update_irq();
}

void IdeChannel::update_irq() {
    bool level = intrq_ && !(devctl_ & kAtaCtlNien);
    if (level == line_) return;
    line_ = level;
    irq_.set_level(level);
}

// ---------------------------------------------------------------------------------------------
// Register access

uint32_t IdeChannel::io_read(uint16_t port, unsigned size) {
    uint32_t ones = size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
    if (!any_present()) return ones;
    if (port == ctl_) {
        const Drive& d = sel();
        return d.kind == Kind::kNone ? 0 : d.status;
    }
    unsigned reg = unsigned(port - base_) & 7;
    if (reg == 0) {
        if (size == 4) {
            uint32_t lo = data_read16();
            return lo | uint32_t(data_read16()) << 16;
        }
        uint16_t v = data_read16();
        return size == 1 ? v & 0xFFu : v;
    }
    Drive& d = sel();
    if (d.kind == Kind::kNone) return 0;  // device 0 answers for an absent device 1 with 00h
    bool hob = devctl_ & kAtaCtlHob;
    switch (reg) {
    case 1: return d.error;
    case 2: return hob ? d.nsect.prev : d.nsect.cur;
    case 3: return hob ? d.lbal.prev : d.lbal.cur;
    case 4: return hob ? d.lbam.prev : d.lbam.cur;
    case 5: return hob ? d.lbah.prev : d.lbah.cur;
    case 6: return d.device;
    default:  // 7: status, acknowledges the interrupt
        intrq_ = false;
        update_irq();
        return d.status;
    }
}

void IdeChannel::io_write(uint16_t port, unsigned size, uint32_t value) {
    if (!any_present()) return;
    uint8_t v = uint8_t(value);
    if (port == ctl_) {
        uint8_t old = devctl_;
        devctl_ = v;
        if ((v & kAtaCtlSrst) && !(old & kAtaCtlSrst)) {  // SRST asserted: drives go busy
            phase_ = Phase::kIdle;
            intrq_ = false;
            for (Drive& d : drives_)
                if (d.kind != Kind::kNone) d.status = kAtaStBsy;
        } else if (!(v & kAtaCtlSrst) && (old & kAtaCtlSrst)) {  // released: signatures
            for (Drive& d : drives_) soft_reset_drive(d);
            select_ = 0;
        }
        update_irq();
        return;
    }
    unsigned reg = unsigned(port - base_) & 7;
    if (reg == 0) {
        if (size == 4) {
            data_write16(uint16_t(value));
            data_write16(uint16_t(value >> 16));
        } else {
            data_write16(uint16_t(value));
        }
        return;
    }
    if (devctl_ & kAtaCtlSrst) return;  // busy: command block writes are ignored
    devctl_ &= uint8_t(~kAtaCtlHob);
    for (Drive& d : drives_) {
        switch (reg) {
        case 1: d.feature.write(v); break;
        case 2: d.nsect.write(v); break;
        case 3: d.lbal.write(v); break;
        case 4: d.lbam.write(v); break;
        case 5: d.lbah.write(v); break;
        case 6: d.device = v; break;
        default: break;
        }
    }
    if (reg == 6) select_ = (v >> 4) & 1;
    if (reg == 7) write_command(v);
}

// ---------------------------------------------------------------------------------------------
// Command dispatch

void IdeChannel::write_command(uint8_t cmd) {
    intrq_ = false;
    update_irq();
    if (cmd == kCmdDiagnose) {  // executed by both devices whichever is selected
        phase_ = Phase::kIdle;
        for (Drive& d : drives_) soft_reset_drive(d);
        select_ = 0;
        set_intrq();
        return;
    }
    Drive& d = sel();
    if (d.kind == Kind::kNone) return;
    phase_ = Phase::kIdle;
    active_ = select_;
    atapi_cmd_ = false;
    d.error = 0;
    if (d.kind == Kind::kDisk) execute_disk(d, cmd);
    else execute_cdrom(d, cmd);
}

bool IdeChannel::common_command(Drive& d, uint8_t cmd) {
    switch (cmd) {
    case kCmdStandbyImm:
    case kCmdStandby:
    case kCmdSleep:  // modelled as standby: the next access wakes the drive
        d.standby = true;
        break;
    case kCmdIdleImm:
    case kCmdIdle:
        d.standby = false;
        break;
    case kCmdCheckPower:
        d.nsect.cur = d.standby ? 0x00 : 0xFF;
        break;
    case kCmdSetFeatures:
        set_features(d);
        return true;
    default:
        return false;
    }
    ata_done(d);
    return true;
}

void IdeChannel::execute_disk(Drive& d, uint8_t cmd) {
    if (common_command(d, cmd)) return;
    uint8_t mult = d.mult;
    switch (cmd) {
    case kCmdReadSectors:
    case kCmdReadSectorsNr: return ata_rw(d, false, false, 1, false);
    case kCmdReadSectorsExt: return ata_rw(d, true, false, 1, false);
    case kCmdWriteSectors:
    case kCmdWriteSectorsNr: return ata_rw(d, false, true, 1, false);
    case kCmdWriteSectorsExt: return ata_rw(d, true, true, 1, false);
    case kCmdReadMultiple:
    case kCmdReadMultipleExt:
    case kCmdWriteMultiple:
    case kCmdWriteMultipleExt: {
        if (!mult) return ata_error(d, kAtaErAbrt);
        bool write = cmd == kCmdWriteMultiple || cmd == kCmdWriteMultipleExt;
        bool ext = cmd == kCmdReadMultipleExt || cmd == kCmdWriteMultipleExt;
        return ata_rw(d, ext, write, mult, false);
    }
    case kCmdReadDma:
    case kCmdReadDmaNr: return ata_rw(d, false, false, 0, true);
    case kCmdReadDmaExt: return ata_rw(d, true, false, 0, true);
    case kCmdWriteDma:
    case kCmdWriteDmaNr: return ata_rw(d, false, true, 0, true);
    case kCmdWriteDmaExt: return ata_rw(d, true, true, 0, true);
    case kCmdVerify:
    case kCmdVerifyNr:
    case kCmdVerifyExt: {
        uint64_t lba;
        uint32_t count;
        if (!decode_address(d, cmd == kCmdVerifyExt, lba, count) || lba + count > disk_sectors(d))
            return ata_error(d, kAtaErIdnf);
        d.standby = false;
        return ata_done(d);
    }
    case kCmdInitParams: {
        if (d.nsect.cur == 0) return ata_error(d, kAtaErAbrt);
        d.spt = d.nsect.cur;
        d.heads = uint8_t((d.device & 0x0F) + 1);
        return ata_done(d);
    }
    case kCmdSetMultiple: {
        uint8_t n = d.nsect.cur;
        if (n > kMaxMultiple || (n & (n - 1)) != 0) return ata_error(d, kAtaErAbrt);
        d.mult = n;
        return ata_done(d);
    }
    case kCmdIdentify: return identify_disk(d);
    case kCmdFlush:
    case kCmdFlushExt:
        if (!d.dev->flush()) return ata_error(d, kAtaErAbrt);
        return ata_done(d);
    default:
        break;
    }
    if ((cmd & 0xF0) == 0x10) return ata_done(d);  // RECALIBRATE (obsolete, 1xh)
    if ((cmd & 0xF0) == 0x70) {                     // SEEK (7xh): the address must exist
        uint64_t lba;
        uint32_t count;
        if (!decode_address(d, false, lba, count) || lba >= disk_sectors(d))
            return ata_error(d, kAtaErIdnf);
        return ata_done(d);
    }
    ata_error(d, kAtaErAbrt);  // NOP, PACKET, IDENTIFY PACKET DEVICE and anything unknown
}

void IdeChannel::execute_cdrom(Drive& d, uint8_t cmd) {
    if (common_command(d, cmd)) return;
    switch (cmd) {
    case kCmdPacket: return packet_command(d);
    case kCmdIdentifyPacket: return identify_packet(d);
    case kCmdDeviceReset:  // no interrupt; the signature tells the host it is done
        soft_reset_drive(d);
        return;
    case kCmdIdentify:
    case kCmdReadSectors:
    case kCmdReadSectorsNr:
        set_signature(d);
        return ata_error(d, kAtaErAbrt);
    default:
        return ata_error(d, kAtaErAbrt);
    }
}

void IdeChannel::set_features(Drive& d) {
    switch (d.feature.cur) {
    case 0x03: {  // set transfer mode from the sector count
        uint8_t v = d.nsect.cur, mode = v & 7;
        switch (v >> 3) {
        case 0x00: break;  // PIO default mode (0 or 1 = IORDY disabled)
        case 0x01: if (mode > 4) return ata_error(d, kAtaErAbrt); break;  // PIO flow control
        case 0x04:                                                       // multiword DMA
            if (mode > 2) return ata_error(d, kAtaErAbrt);
            d.mwdma_sel = uint8_t(1u << mode);
            d.udma_sel = 0;
            break;
        case 0x08:  // Ultra DMA
            if (mode > 5) return ata_error(d, kAtaErAbrt);
            d.udma_sel = uint8_t(1u << mode);
            d.mwdma_sel = 0;
            break;
        default: return ata_error(d, kAtaErAbrt);
        }
        break;
    }
    case 0x02:  // enable / disable the write cache
    case 0x82:
        if (d.kind != Kind::kDisk) return ata_error(d, kAtaErAbrt);
        d.write_cache = d.feature.cur == 0x02;
        break;
    case 0x55:  // read look-ahead off / on, revert to power-on defaults on / off: accepted
    case 0xAA:
    case 0x66:
    case 0xCC:
        break;
    default: return ata_error(d, kAtaErAbrt);
    }
    ata_done(d);
}

void IdeChannel::ata_done(Drive& d) {
    phase_ = Phase::kIdle;
    d.status = kAtaStDrdy | kAtaStDsc;
    set_intrq();
}

void IdeChannel::ata_error(Drive& d, uint8_t err) {
    phase_ = Phase::kIdle;
    d.status = kAtaStDrdy | kAtaStDsc | kAtaStErr;
    d.error = err;
    set_intrq();
}

// ---------------------------------------------------------------------------------------------
// Addressing and transfers

uint64_t IdeChannel::disk_sectors(const Drive& d) const {
    return d.dev ? d.dev->size() / kAtaSectorSize : 0;
}

uint32_t IdeChannel::cur_cylinders(const Drive& d) const {
    uint64_t hs = uint64_t(d.heads) * d.spt;
    if (!hs) return 0;
    uint64_t c = std::min<uint64_t>({disk_sectors(d) / hs, 65535, kMaxChsSectors / hs});
    return uint32_t(c);
}

bool IdeChannel::decode_address(Drive& d, bool lba48, uint64_t& lba, uint32_t& count) {
    if (lba48) {
        count = uint32_t(d.nsect.prev) << 8 | d.nsect.cur;
        if (!count) count = 65536;
        lba = uint64_t(d.lbah.prev) << 40 | uint64_t(d.lbam.prev) << 32 |
              uint64_t(d.lbal.prev) << 24 | uint64_t(d.lbah.cur) << 16 |
              uint64_t(d.lbam.cur) << 8 | d.lbal.cur;
        return true;
    }
    count = d.nsect.cur ? d.nsect.cur : 256;
    if (d.device & 0x40) {
        lba = uint64_t(d.device & 0x0F) << 24 | uint64_t(d.lbah.cur) << 16 |
              uint64_t(d.lbam.cur) << 8 | d.lbal.cur;
        return true;
    }
    uint32_t cyl = uint32_t(d.lbah.cur) << 8 | d.lbam.cur;
    uint32_t head = d.device & 0x0F, sector = d.lbal.cur;
    if (sector == 0 || sector > d.spt || head >= d.heads || cyl >= cur_cylinders(d)) return false;
    lba = (uint64_t(cyl) * d.heads + head) * d.spt + sector - 1;
    return true;
}

void IdeChannel::ata_rw(Drive& d, bool lba48, bool write, uint32_t block_sectors, bool dma) {
    uint64_t lba;
    uint32_t count;
    if (!decode_address(d, lba48, lba, count) || lba + count > disk_sectors(d))
        return ata_error(d, kAtaErIdnf);
    if (write && d.dev->read_only()) return ata_error(d, kAtaErAbrt);
    if (dma && !dma_) return ata_error(d, kAtaErAbrt);
    d.standby = false;
    to_device_ = write;
    from_image_ = true;
    img_base_ = lba * kAtaSectorSize;
    total_ = uint64_t(count) * kAtaSectorSize;
    pos_ = 0;
    d.status = kAtaStDrdy | kAtaStDsc | kAtaStDrq;
    if (dma) {
        phase_ = Phase::kDma;
        dma_->dma_requested();
        return;
    }
    block_ = block_sectors * kAtaSectorSize;
    pio_pos_ = 0;
    pio_len_ = uint32_t(std::min<uint64_t>(block_, total_));
    if (write) {
        phase_ = Phase::kPioOut;  // the first block is requested without an interrupt
        return;
    }
    if (!source_read(pio_.data(), pio_len_)) return ata_error(d, kAtaErUnc);
    phase_ = Phase::kPioIn;
    set_intrq();
}

void IdeChannel::start_buffer_pio_in(Drive& d) {
    from_image_ = false;
    to_device_ = false;
    total_ = resp_.size();
    pos_ = 0;
    block_ = uint32_t(total_);
    pio_pos_ = 0;
    pio_len_ = block_;
    std::memcpy(pio_.data(), resp_.data(), pio_len_);
    phase_ = Phase::kPioIn;
    d.status = kAtaStDrdy | kAtaStDsc | kAtaStDrq;
    set_intrq();
}

bool IdeChannel::source_read(uint8_t* dst, size_t n) {
    if (from_image_) {
        BlockDevice* dev = drives_[active_].dev;
        return dev && dev->read(img_base_ + pos_, dst, n);
    }
    if (pos_ > resp_.size() || n > resp_.size() - pos_) return false;
    std::memcpy(dst, resp_.data() + pos_, n);
    return true;
}

uint16_t IdeChannel::data_read16() {
    if (phase_ != Phase::kPioIn || pio_pos_ >= pio_len_) return 0xFFFF;
    uint16_t v = pio_[pio_pos_];
    if (pio_pos_ + 1 < pio_len_) v = uint16_t(v | pio_[pio_pos_ + 1] << 8);  // odd tail: pad 0
    pio_pos_ += 2;
    if (pio_pos_ >= pio_len_) pio_block_read_done();
    return v;
}

void IdeChannel::data_write16(uint16_t v) {
    if ((phase_ != Phase::kPioOut && phase_ != Phase::kPacket) || pio_pos_ >= pio_len_) return;
    pio_[pio_pos_] = uint8_t(v);
    if (pio_pos_ + 1 < pio_len_) pio_[pio_pos_ + 1] = uint8_t(v >> 8);
    pio_pos_ += 2;
    if (pio_pos_ < pio_len_) return;
    if (phase_ == Phase::kPacket) atapi_execute();
    else pio_block_write_done();
}

void IdeChannel::pio_block_read_done() {
    Drive& d = drives_[active_];
    pos_ += pio_len_;
    if (atapi_cmd_) {
        if (pos_ < total_) atapi_next_chunk(d);
        else atapi_ok(d);
        return;
    }
    if (pos_ >= total_) {  // the last block: DRQ drops, no interrupt
        phase_ = Phase::kIdle;
        d.status = kAtaStDrdy | kAtaStDsc;
        return;
    }
    pio_pos_ = 0;
    pio_len_ = uint32_t(std::min<uint64_t>(block_, total_ - pos_));
    if (!source_read(pio_.data(), pio_len_)) return ata_error(d, kAtaErUnc);
    d.status = kAtaStDrdy | kAtaStDsc | kAtaStDrq;
    set_intrq();
}

void IdeChannel::pio_block_write_done() {
    Drive& d = drives_[active_];
    if (!d.dev || !d.dev->write(img_base_ + pos_, pio_.data(), pio_len_))
        return ata_error(d, d.dev && d.dev->read_only() ? kAtaErAbrt : kAtaErUnc);
    pos_ += pio_len_;
    if (pos_ >= total_) return ata_done(d);
    pio_pos_ = 0;
    pio_len_ = uint32_t(std::min<uint64_t>(block_, total_ - pos_));
    d.status = kAtaStDrdy | kAtaStDsc | kAtaStDrq;
    set_intrq();
}

void IdeChannel::dma_service() {
    if (phase_ != Phase::kDma || !dma_) return;
    Drive& d = drives_[active_];
    if (scratch_.size() < kDmaChunk) scratch_.resize(kDmaChunk);
    auto fail = [&] {
        if (atapi_cmd_) atapi_check(d, 0x03, 0x11);  // MEDIUM ERROR / UNRECOVERED READ ERROR
        else ata_error(d, kAtaErUnc);
    };
    while (pos_ < total_) {
        size_t n = size_t(std::min<uint64_t>(kDmaChunk, total_ - pos_));
        size_t moved;
        if (!to_device_) {
            if (!source_read(scratch_.data(), n)) return fail();
            moved = dma_->dma_move(scratch_.data(), n, true);
        } else {
            moved = dma_->dma_move(scratch_.data(), n, false);
            if (moved && (!d.dev || !d.dev->write(img_base_ + pos_, scratch_.data(), moved)))
                return fail();
        }
        pos_ += moved;
        if (moved < n) return;  // the engine stopped: keep DMARQ and wait
    }
    if (atapi_cmd_) atapi_ok(d);
    else ata_done(d);
}

// ---------------------------------------------------------------------------------------------
// IDENTIFY DEVICE

void IdeChannel::fill_ids(std::array<uint16_t, 256>& w, unsigned unit, const char* model) const {
    auto put = [&w](unsigned first, unsigned words, const char* s) {
        size_t n = std::strlen(s);
        for (unsigned i = 0; i < words * 2; ++i) {
            uint8_t c = i < n ? uint8_t(s[i]) : uint8_t(' ');
            if (i % 2 == 0) w[first + i / 2] = uint16_t(c << 8);  // first character: high byte
            else w[first + i / 2] = uint16_t(w[first + i / 2] | c);
        }
    };
    char serial[24];
    std::snprintf(serial, sizeof serial, "VX86-%04X-%u", unsigned(base_), unit);
    put(10, 10, serial);
    put(23, 4, "0.1.0");
    put(27, 20, model);
}

void IdeChannel::send_identify(Drive& d, const std::array<uint16_t, 256>& w) {
    resp_.assign(512, 0);
    for (unsigned i = 0; i < 255; ++i) {
        resp_[2 * i] = uint8_t(w[i]);
        resp_[2 * i + 1] = uint8_t(w[i] >> 8);
    }
    // Word 255: signature A5h and a checksum making the 512 bytes sum to 0 (mod 256).
    resp_[510] = 0xA5;
    uint8_t sum = 0;
    for (unsigned i = 0; i < 511; ++i) sum = uint8_t(sum + resp_[i]);
    resp_[511] = uint8_t(-sum);
    start_buffer_pio_in(d);
}

void IdeChannel::identify_disk(Drive& d) {
    std::array<uint16_t, 256> w{};
    unsigned unit = unsigned(&d - drives_.data());
    uint64_t total = disk_sectors(d);
    w[0] = 0x0040;  // fixed device, not removable
    w[1] = uint16_t(std::min<uint64_t>(total / (kDefaultHeads * kDefaultSpt), kMaxDefaultCylinders));
    w[3] = kDefaultHeads;
    w[6] = kDefaultSpt;
    fill_ids(w, unit, "VX86 HARDDISK");
    w[47] = uint16_t(0x8000 | kMaxMultiple);
    w[49] = 0x0B00;  // IORDY, LBA, DMA supported
    w[50] = 0x4000;
    w[51] = 0x0200;  // PIO timing mode 2 (obsolete word)
    w[53] = 0x0007;  // words 54-58, 64-70 and 88 valid
    uint32_t cyl = cur_cylinders(d);
    uint32_t cap = cyl * d.heads * d.spt;
    w[54] = uint16_t(cyl);
    w[55] = d.heads;
    w[56] = d.spt;
    w[57] = uint16_t(cap);
    w[58] = uint16_t(cap >> 16);
    w[59] = uint16_t(0x0100 | d.mult);
    uint32_t lba28 = uint32_t(std::min<uint64_t>(total, kLba28Max));
    w[60] = uint16_t(lba28);
    w[61] = uint16_t(lba28 >> 16);
    w[63] = uint16_t(0x0007 | d.mwdma_sel << 8);  // multiword DMA 0-2
    w[64] = 0x0003;                                // PIO 3 and 4
    w[65] = w[66] = w[67] = w[68] = 120;           // cycle times (ns)
    w[80] = 0x007E;                                // ATA-1 .. ATA/ATAPI-6
    w[82] = 0x4028;                                // NOP, write cache, power management
    w[83] = 0x7400;                                // FLUSH CACHE (EXT), 48-bit address
    w[84] = 0x4000;
    w[85] = uint16_t(0x4008 | (d.write_cache ? 0x0020 : 0));
    w[86] = 0x3400;
    w[87] = 0x4000;
    w[88] = uint16_t(0x003F | d.udma_sel << 8);  // Ultra DMA 0-5
    w[93] = unit == 0 ? 0x600B : 0x6B00;         // reset result, 80-conductor cable
    for (unsigned i = 0; i < 4; ++i) w[100 + i] = uint16_t(total >> (16 * i));
    w[106] = 0x4000;  // one logical sector per physical sector
    send_identify(d, w);
}

}  // namespace vx86::devices
