#include "devices/fdc.h"

#include <cstring>
#include <stdexcept>
#include <string>

namespace vx86::devices {

namespace {

// Rate codes (CCR/DSR bits 1-0): 0 = 500 kbps, 1 = 300 kbps, 2 = 250 kbps, 3 = 1 Mbps.
constexpr uint8_t kRate500 = 1u << 0, kRate300 = 1u << 1, kRate250 = 1u << 2, kRate1M = 1u << 3;

// 40-track double-density media read at 250 kbps (360K drive) or 300 kbps (1.2M drive).
constexpr FloppyFormat kFormats[] = {
    {163840, 40, 1, 8, 1, kRate250 | kRate300, "160K"},
    {184320, 40, 1, 9, 1, kRate250 | kRate300, "180K"},
    {327680, 40, 2, 8, 1, kRate250 | kRate300, "320K"},
    {368640, 40, 2, 9, 1, kRate250 | kRate300, "360K"},
    {737280, 80, 2, 9, 3, kRate250, "720K"},
    {1228800, 80, 2, 15, 2, kRate500, "1.2M"},
    {1474560, 80, 2, 18, 4, kRate500, "1.44M"},
    {2949120, 80, 2, 36, 5, kRate1M, "2.88M"},
};

constexpr unsigned kSectorSize = 512;
constexpr uint8_t kSectorCode = 2;  // N for 512-byte sectors

constexpr uint8_t kMsrRqm = 0x80, kMsrDio = 0x40, kMsrNdma = 0x20, kMsrCb = 0x10;
constexpr uint8_t kDorNotReset = 0x04, kDorDmaGate = 0x08;

constexpr uint8_t kSt0Abnormal = 0x40, kSt0Invalid = 0x80, kSt0Polling = 0xC0;
constexpr uint8_t kSt0SeekEnd = 0x20, kSt0EquipCheck = 0x10, kSt0NotReady = 0x08;
constexpr uint8_t kSt1EndOfCyl = 0x80, kSt1DataError = 0x20, kSt1Overrun = 0x10;
constexpr uint8_t kSt1NoData = 0x04, kSt1NotWritable = 0x02, kSt1MissingAm = 0x01;
constexpr uint8_t kSt2DataError = 0x20, kSt2WrongCyl = 0x10, kSt2BadCyl = 0x02;
constexpr uint8_t kSt3WriteProtect = 0x40, kSt3Ready = 0x20, kSt3Track0 = 0x10, kSt3TwoSide = 0x08;

constexpr uint8_t kConfigDefault = 0x20;  // EIS 0, EFIFO 1 (FIFO off), POLL 0, FIFOTHR 0
constexpr uint8_t kConfigEis = 0x40, kConfigPollOff = 0x10;

}  // namespace

const FloppyFormat* floppy_format_for_size(uint64_t bytes) {
    for (const FloppyFormat& f : kFormats)
        if (f.bytes == bytes) return &f;
    return nullptr;
}

Fdc::Fdc(IrqLine irq, Dma8237Pair& dma, Clock& clock) : irq_(irq), dma_(dma), clock_(clock) {
    exec_timer_ = clock_.add_timer("fdc.exec", [this] { on_exec(); });
    reset_timer_ = clock_.add_timer("fdc.reset", [this] { on_reset_done(); });
    for (unsigned d = 0; d < seek_timer_.size(); ++d)
        seek_timer_[d] = clock_.add_timer("fdc.seek" + std::to_string(d), [this, d] { on_seek_done(d); });
    reset();
}

void Fdc::attach(IoBus& bus) {
    bus.attach(kFdcBase, 6, this, kIoSize8);         // 0x3F0-0x3F5
    bus.attach(kFdcBase + 7, 1, this, kIoSize8);     // 0x3F7 (0x3F6 belongs to IDE)
}

void Fdc::reset() {
    dor_ = 0;
    tdr_ = 0;
    rate_ = 2;  // 250 kbps after a hardware reset
    precomp_ = 0;
    specify_ = {0, 0};
    lock_ = false;
    perp_ = 0;
    last_eot_ = 0;
    controller_reset();
}

// What DOR bit 2 and DSR bit 7 do: the command machine and pending statuses go away.
void Fdc::controller_reset() {
    clock_.cancel(exec_timer_);
    clock_.cancel(reset_timer_);
    for (unsigned d = 0; d < drives_.size(); ++d) {
        clock_.cancel(seek_timer_[d]);
        drives_[d].busy = false;
        drives_[d].status_pending = false;
    }
    phase_ = Phase::kCommand;
    cmd_len_ = 0;
    res_len_ = res_pos_ = 0;
    pio_pos_ = pio_len_ = 0;
    if (!lock_) {
        config_ = kConfigDefault;
        pretrk_ = 0;
    }
    perp_ &= 0x3C;  // GAP and WGATE clear, the per-drive bits stay
    int_ = false;
    update_irq();
}

void Fdc::on_reset_done() {
    if (in_reset() || (config_ & kConfigPollOff)) return;
    for (unsigned d = 0; d < drives_.size(); ++d) {
        drives_[d].st0 = uint8_t(kSt0Polling | d);
        drives_[d].status_pending = true;
    }
    set_int(true);
}

void Fdc::insert(unsigned drive, BlockDevice* image) {
    if (drive >= kDrives) throw std::out_of_range("floppy drive number must be 0 (A:) or 1 (B:)");
    if (!image) {
        eject(drive);
        return;
    }
    const FloppyFormat* f = floppy_format_for_size(image->size());
    if (!f)
        throw std::invalid_argument("floppy image of " + std::to_string(image->size()) +
                                    " bytes is not a PC floppy size (160K, 180K, 320K, 360K, "
                                    "720K, 1.2M, 1.44M or 2.88M)");
    Drive& d = drives_[drive];
    d.image = image;
    d.format = int8_t(f - kFormats);
    d.type = f->cmos_type;
    d.next_r = 1;
    d.changed = true;
}

void Fdc::eject(unsigned drive) {
    if (drive >= kDrives) return;
    Drive& d = drives_[drive];
    d.image = nullptr;
    d.format = -1;
    d.changed = true;
}

void Fdc::set_drive_type(unsigned drive, uint8_t cmos_type) {
    if (drive < kDrives && cmos_type <= 5) drives_[drive].type = cmos_type;
}

bool Fdc::drive_exists(unsigned drive) const {
    return drive < kDrives && (drives_[drive].type != 0 || drives_[drive].image);
}

void Fdc::step_to(Drive& d, uint8_t cyl) {
    if (cyl != d.cyl && d.image) d.changed = false;  // a step pulse with a disk resets the line
    d.cyl = cyl;
}

void Fdc::set_int(bool v) {
    int_ = v;
    update_irq();
}

void Fdc::update_irq() {
    bool level = int_ && (dor_ & kDorDmaGate) && !in_reset();
    if (level != irq_level_) {
        irq_level_ = level;
        irq_.set_level(level);
    }
}

uint8_t Fdc::msr() const {
    if (in_reset()) return 0;
    uint8_t v = 0;
    for (unsigned d = 0; d < drives_.size(); ++d)
        if (drives_[d].busy) v |= uint8_t(1u << d);
    switch (phase_) {
        case Phase::kCommand: v |= kMsrRqm | (cmd_len_ ? kMsrCb : 0); break;
        case Phase::kBusy: v |= kMsrCb; break;
        case Phase::kExecPio: v |= kMsrRqm | kMsrNdma | kMsrCb | (pio_to_host_ ? kMsrDio : 0); break;
        case Phase::kResult: v |= kMsrRqm | kMsrDio | kMsrCb; break;
    }
    return v;
}

uint32_t Fdc::io_read(uint16_t port, unsigned size) {
    switch (port - kFdcBase) {
        case 2: return dor_;
        case 3: return tdr_ & 0x03;
        case 4: return msr();
        case 5: return fifo_read();
        case 7: {
            unsigned sel = dor_ & 3;
            return (drive_exists(sel) && drives_[sel].changed) ? 0x80 : 0x00;
        }
        default: return 0xFF;  // SRA/SRB: PS/2 mode only
    }
}

void Fdc::io_write(uint16_t port, unsigned size, uint32_t value) {
    const uint8_t v = uint8_t(value);
    switch (port - kFdcBase) {
        case 2: {
            const bool was_reset = in_reset();
            dor_ = v;
            if (!was_reset && in_reset()) {
                controller_reset();
            } else if (was_reset && !in_reset()) {
                controller_reset();
                clock_.arm(reset_timer_, clock_.now_ns() + kResetDelayNs);
            }
            update_irq();
            break;
        }
        case 3: tdr_ = v & 0x03; break;
        case 4:  // DSR
            rate_ = v & 3;
            precomp_ = (v >> 2) & 7;
            if ((v & 0x80) && !in_reset()) {
                controller_reset();
                clock_.arm(reset_timer_, clock_.now_ns() + kResetDelayNs);
            }
            break;
        case 5: fifo_write(v); break;
        case 7: rate_ = v & 3; break;  // CCR
        default: break;
    }
}

void Fdc::set_result(std::initializer_list<uint8_t> bytes, bool irq) {
    res_len_ = 0;
    for (uint8_t b : bytes) res_[res_len_++] = b;
    res_pos_ = 0;
    phase_ = Phase::kResult;
    if (irq) set_int(true);
}

uint8_t Fdc::fifo_read() {
    if (in_reset()) return 0;
    if (phase_ == Phase::kResult) {
        if (res_pos_ == 0) set_int(false);  // reading the result clears the interrupt
        uint8_t v = res_[res_pos_++];
        if (res_pos_ >= res_len_) phase_ = Phase::kCommand;
        return v;
    }
    if (phase_ == Phase::kExecPio && pio_to_host_) {
        set_int(false);
        uint8_t v = pio_buf_[pio_pos_++];
        if (pio_pos_ >= pio_len_) pio_data_done();
        return v;
    }
    return 0;
}

void Fdc::fifo_write(uint8_t v) {
    if (in_reset()) return;
    if (phase_ == Phase::kExecPio && !pio_to_host_) {
        set_int(false);
        pio_buf_[pio_pos_++] = v;
        if (pio_pos_ >= pio_len_) pio_data_done();
        return;
    }
    if (phase_ != Phase::kCommand) return;
    if (cmd_len_ == 0) {
        // Opcode: which bits are fixed, and the command length.
        struct Desc {
            uint8_t mask, value, length;
            Cmd cmd;
        };
        static constexpr Desc kTable[] = {
            {0x1F, 0x06, 9, Cmd::kReadData},      // READ DATA (MT MFM SK)
            {0x1F, 0x0C, 9, Cmd::kReadData},      // READ DELETED DATA
            {0x3F, 0x05, 9, Cmd::kWriteData},     // WRITE DATA (MT MFM)
            {0x3F, 0x09, 9, Cmd::kWriteData},     // WRITE DELETED DATA
            {0xBF, 0x0A, 2, Cmd::kReadId},        // READ ID (MFM)
            {0xBF, 0x0D, 6, Cmd::kFormat},        // FORMAT TRACK (MFM)
            {0xFF, 0x07, 2, Cmd::kRecalibrate},
            {0xFF, 0x08, 1, Cmd::kSenseInt},
            {0xFF, 0x03, 3, Cmd::kSpecify},
            {0xFF, 0x04, 2, Cmd::kSenseDrive},
            {0xFF, 0x0F, 3, Cmd::kSeek},
            {0xBF, 0x8F, 3, Cmd::kRelSeek},       // 1 DIR 0 0 1 1 1 1
            {0xFF, 0x10, 1, Cmd::kVersion},
            {0xFF, 0x0E, 1, Cmd::kDumpreg},
            {0xFF, 0x12, 2, Cmd::kPerpendicular},
            {0xFF, 0x13, 4, Cmd::kConfigure},
            {0x7F, 0x14, 1, Cmd::kLock},          // LOCK bit 7
        };
        cmd_id_ = Cmd::kInvalid;
        for (const Desc& d : kTable) {
            if ((v & d.mask) == d.value) {
                cmd_id_ = d.cmd;
                cmd_need_ = d.length;
                break;
            }
        }
        if (cmd_id_ == Cmd::kInvalid) {
            set_result({kSt0Invalid}, false);
            return;
        }
    }
    cmd_[cmd_len_++] = v;
    if (cmd_len_ >= cmd_need_) {
        cmd_len_ = 0;
        execute();
    }
}

void Fdc::execute() {
    const uint8_t* c = cmd_.data();
    switch (cmd_id_) {
        case Cmd::kSpecify:
            specify_ = {c[1], c[2]};
            phase_ = Phase::kCommand;
            break;
        case Cmd::kSenseDrive: {
            const unsigned ds = c[1] & 3;
            const Drive& d = drives_[ds];
            const bool wp = !d.image || d.image->read_only();
            set_result({uint8_t((wp ? kSt3WriteProtect : 0) | kSt3Ready | (d.cyl == 0 ? kSt3Track0 : 0) |
                                kSt3TwoSide | (c[1] & 0x04) | ds)},
                       false);
            break;
        }
        case Cmd::kSenseInt: {
            for (unsigned ds = 0; ds < drives_.size(); ++ds) {
                Drive& d = drives_[ds];
                if (!d.status_pending) continue;
                d.status_pending = false;
                d.busy = false;
                set_int(false);
                set_result({d.st0, d.cyl}, false);
                return;
            }
            set_result({kSt0Invalid}, false);  // no interrupt pending
            break;
        }
        case Cmd::kRecalibrate:
        case Cmd::kSeek:
        case Cmd::kRelSeek: {
            const unsigned ds = c[1] & 3;
            Drive& d = drives_[ds];
            int target = 0;
            if (cmd_id_ == Cmd::kSeek) {
                target = c[2];
            } else if (cmd_id_ == Cmd::kRelSeek) {
                target = (c[0] & 0x40) ? d.cyl + c[2] : d.cyl - c[2];  // DIR 1 = step in
                target = target < 0 ? 0 : target > 255 ? 255 : target;
            }
            d.seek_target = uint8_t(target);
            d.seek_recal = cmd_id_ == Cmd::kRecalibrate;
            d.busy = true;
            clock_.arm(seek_timer_[ds], clock_.now_ns() + kSeekDelayNs);
            phase_ = Phase::kCommand;
            break;
        }
        case Cmd::kVersion: set_result({0x90}, false); break;
        case Cmd::kDumpreg:
            set_result({drives_[0].cyl, drives_[1].cyl, drives_[2].cyl, drives_[3].cyl, specify_[0],
                        specify_[1], last_eot_, uint8_t((lock_ ? 0x80 : 0) | (perp_ & 0x3F)), config_,
                        pretrk_},
                       false);
            break;
        case Cmd::kPerpendicular:
            if (c[1] & 0x80)
                perp_ = c[1] & 0x3F;  // OW: the drive bits are written too
            else
                perp_ = uint8_t((perp_ & 0x3C) | (c[1] & 0x03));
            phase_ = Phase::kCommand;
            break;
        case Cmd::kConfigure:
            config_ = c[2] & 0x7F;
            pretrk_ = c[3];
            phase_ = Phase::kCommand;
            break;
        case Cmd::kLock:
            lock_ = c[0] & 0x80;
            set_result({uint8_t(lock_ ? 0x10 : 0x00)}, false);
            break;
        case Cmd::kReadData:
        case Cmd::kWriteData:
        case Cmd::kReadId:
        case Cmd::kFormat: {
            op_ = Op{};
            op_.cmd = cmd_id_;
            op_.mt = c[0] & 0x80;
            op_.mfm = c[0] & 0x40;
            op_.write = cmd_id_ == Cmd::kWriteData || cmd_id_ == Cmd::kFormat;
            op_.pio = specify_[1] & 0x01;
            op_.drive = c[1] & 3;
            op_.hds = (c[1] >> 2) & 1;
            if (cmd_id_ == Cmd::kReadData || cmd_id_ == Cmd::kWriteData) {
                op_.c = c[2];
                op_.h = c[3];
                op_.r = c[4];
                op_.n = c[5];
                op_.eot = c[6];
                last_eot_ = op_.eot;
            } else if (cmd_id_ == Cmd::kFormat) {
                op_.n = c[2];
                op_.sc = c[3];
                op_.fill = c[5];
                last_eot_ = op_.sc;
            }
            phase_ = Phase::kBusy;
            clock_.arm(exec_timer_, clock_.now_ns() + kExecDelayNs);
            break;
        }
        case Cmd::kInvalid: set_result({kSt0Invalid}, false); break;
    }
}

void Fdc::on_seek_done(unsigned ds) {
    Drive& d = drives_[ds];
    uint8_t st0 = uint8_t(kSt0SeekEnd | ds);  // the head bit reads 0 after seeks
    if (d.seek_recal && !drive_exists(ds))
        st0 |= kSt0Abnormal | kSt0EquipCheck;  // track 0 never seen
    else
        step_to(d, d.seek_target);
    d.st0 = st0;
    d.status_pending = true;
    set_int(true);
}

// ---- Data commands ----------------------------------------------------------------------

void Fdc::finish_rw(uint8_t st0, uint8_t st1, uint8_t st2) {
    set_result({uint8_t(st0 | (op_.hds << 2) | op_.drive), st1, st2, op_.c, op_.h, op_.r, op_.n}, true);
}

// Checks that the drive holds a readable medium at this data rate and mode, and that the
// track under the head exists. Sets the error result and returns false otherwise.
bool Fdc::check_medium() {
    const Drive& d = drives_[op_.drive];
    if (!d.image) {
        finish_rw(kSt0Abnormal | kSt0NotReady, 0, 0);
        return false;
    }
    const FloppyFormat& f = kFormats[d.format];
    if (!op_.mfm || !((f.rates >> rate_) & 1) || op_.hds >= f.heads || d.cyl >= f.cylinders) {
        finish_rw(kSt0Abnormal, kSt1MissingAm, 0);
        return false;
    }
    return true;
}

// Finds the ID field that matches op_'s C/H/R/N on the current track.
bool Fdc::locate_sector() {
    if (!check_medium()) return false;
    const Drive& d = drives_[op_.drive];
    const FloppyFormat& f = kFormats[d.format];
    if (op_.c != d.cyl) {
        finish_rw(kSt0Abnormal, kSt1NoData, op_.c == 0xFF ? kSt2BadCyl : kSt2WrongCyl);
        return false;
    }
    if (op_.h != op_.hds || op_.n != kSectorCode || op_.r == 0 || op_.r > f.sectors) {
        finish_rw(kSt0Abnormal, kSt1NoData, 0);
        return false;
    }
    return true;
}

uint64_t Fdc::sector_offset() const {
    const Drive& d = drives_[op_.drive];
    const FloppyFormat& f = kFormats[d.format];
    uint64_t lba = (uint64_t(d.cyl) * f.heads + op_.hds) * f.sectors + (op_.r - 1u);
    return lba * kSectorSize;
}

// Steps op_ past the sector just transferred (datasheet table of result-phase C/H/R).
// Returns true while the command goes on to another sector, false when EOT ended it.
bool Fdc::next_sector() {
    Drive& d = drives_[op_.drive];
    if (d.format >= 0) d.next_r = uint8_t(op_.r % kFormats[d.format].sectors + 1);
    if (op_.r != op_.eot) {
        ++op_.r;
        return true;
    }
    op_.r = 1;
    if (op_.mt) {
        op_.h ^= 1;  // multi-track: H is complemented at the end of a side
        if (op_.hds == 0) {
            op_.hds = 1;  // side 0 done: go on with side 1 of the same cylinder
            return true;
        }
    }
    ++op_.c;
    return false;
}

void Fdc::on_exec() {
    if (phase_ != Phase::kBusy) return;
    Drive& d = drives_[op_.drive];
    if (op_.cmd == Cmd::kReadData || op_.cmd == Cmd::kWriteData) {
        if ((config_ & kConfigEis) && d.image) step_to(d, op_.c);  // implied seek
        if (!check_medium()) return;
        if (op_.write && d.image->read_only()) {
            finish_rw(kSt0Abnormal, kSt1NotWritable, 0);
            return;
        }
        if (!op_.pio) {
            run_dma_rw();
            return;
        }
        if (!load_pio_sector()) return;
        phase_ = Phase::kExecPio;
        set_int(true);
        return;
    }
    if (op_.cmd == Cmd::kReadId) {
        if (!check_medium()) return;
        set_result({uint8_t((op_.hds << 2) | op_.drive), 0, 0, d.cyl, op_.hds, d.next_r, kSectorCode}, true);
        return;
    }
    // FORMAT TRACK
    if (!check_medium()) return;
    if (d.image->read_only()) {
        finish_rw(kSt0Abnormal, kSt1NotWritable, 0);
        return;
    }
    const size_t len = size_t(op_.sc) * 4;
    if (op_.pio) {
        if (len == 0) {
            apply_format(pio_buf_.data(), 0);
            return;
        }
        pio_pos_ = 0;
        pio_len_ = uint16_t(len);
        pio_to_host_ = false;
        phase_ = Phase::kExecPio;
        set_int(true);
        return;
    }
    if (!(dor_ & kDorDmaGate) || !dma_.channel_ready(kFdcDmaChannel)) {
        finish_rw(kSt0Abnormal, kSt1Overrun, 0);
        return;
    }
    size_t got = dma_.transfer_from_memory(kFdcDmaChannel, pio_buf_.data(), len);
    apply_format(pio_buf_.data(), got);
}

void Fdc::apply_format(const uint8_t* ids, size_t len) {
    Drive& d = drives_[op_.drive];
    if (!d.image) {
        finish_rw(kSt0Abnormal | kSt0NotReady, 0, 0);
        return;
    }
    const FloppyFormat& f = kFormats[d.format];
    uint8_t sector[kSectorSize];
    std::memset(sector, op_.fill, sizeof sector);
    op_.c = d.cyl;
    op_.h = op_.hds;
    op_.r = 0;
    for (size_t i = 0; i + 4 <= len; i += 4) {
        op_.c = ids[i];
        op_.h = ids[i + 1];
        op_.r = ids[i + 2];
        const uint8_t r = ids[i + 2];
        if (op_.n != kSectorCode || r == 0 || r > f.sectors) continue;
        uint64_t lba = (uint64_t(d.cyl) * f.heads + op_.hds) * f.sectors + (r - 1u);
        if (!d.image->write(lba * kSectorSize, sector, kSectorSize)) {
            finish_rw(kSt0Abnormal, kSt1DataError, 0);
            return;
        }
    }
    finish_rw(0, 0, 0);
}

void Fdc::run_dma_rw() {
    Drive& d = drives_[op_.drive];
    uint8_t buf[kSectorSize];
    for (;;) {
        if (!locate_sector()) return;
        if (!(dor_ & kDorDmaGate) || !dma_.channel_ready(kFdcDmaChannel)) {
            finish_rw(kSt0Abnormal, kSt1Overrun, 0);  // nobody answers DRQ
            return;
        }
        size_t n;
        if (!op_.write) {
            if (!d.image->read(sector_offset(), buf, kSectorSize)) {
                finish_rw(kSt0Abnormal, kSt1DataError, kSt2DataError);
                return;
            }
            n = dma_.transfer_to_memory(kFdcDmaChannel, buf, kSectorSize);
        } else {
            n = dma_.transfer_from_memory(kFdcDmaChannel, buf, kSectorSize);
            if (n < kSectorSize) std::memset(buf + n, 0, kSectorSize - n);
            if (!d.image->write(sector_offset(), buf, kSectorSize)) {
                finish_rw(kSt0Abnormal, kSt1DataError, 0);
                return;
            }
        }
        const bool tc = dma_.terminal_count(kFdcDmaChannel);
        if (!tc && n < kSectorSize) {
            finish_rw(kSt0Abnormal, kSt1Overrun, 0);
            return;
        }
        const bool more = next_sector();
        if (tc) {
            finish_rw(0, 0, 0);
            return;
        }
        if (!more) {
            finish_rw(kSt0Abnormal, kSt1EndOfCyl, 0);
            return;
        }
    }
}

// Prepares the PIO buffer for the sector op_ names (reads it for READ DATA).
bool Fdc::load_pio_sector() {
    if (!locate_sector()) return false;
    Drive& d = drives_[op_.drive];
    pio_pos_ = 0;
    pio_len_ = kSectorSize;
    pio_to_host_ = !op_.write;
    if (!op_.write && !d.image->read(sector_offset(), pio_buf_.data(), kSectorSize)) {
        finish_rw(kSt0Abnormal, kSt1DataError, kSt2DataError);
        return false;
    }
    return true;
}

// The host moved the last byte of the PIO buffer.
void Fdc::pio_data_done() {
    Drive& d = drives_[op_.drive];
    if (op_.cmd == Cmd::kFormat) {
        apply_format(pio_buf_.data(), pio_len_);
        return;
    }
    if (!d.image) {
        finish_rw(kSt0Abnormal | kSt0NotReady, 0, 0);
        return;
    }
    if (op_.write && !d.image->write(sector_offset(), pio_buf_.data(), kSectorSize)) {
        finish_rw(kSt0Abnormal, kSt1DataError, 0);
        return;
    }
    if (!next_sector()) {
        finish_rw(kSt0Abnormal, kSt1EndOfCyl, 0);  // no TC in PIO mode: ends at EOT
        return;
    }
    load_pio_sector();
}

}  // namespace vx86::devices
