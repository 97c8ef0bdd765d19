// IdeChannel, ATAPI half: IDENTIFY PACKET DEVICE and the packet commands of a CD-ROM drive.
//
// Facts used (ATA/ATAPI-6 PACKET protocol, SPC / MMC-2 command formats):
// - PACKET: features bit 0 selects DMA; LBA mid/high carry the byte count limit. The device
//   requests the 12-byte command with DRQ set and interrupt reason CoD=1, IO=0 (no interrupt:
//   IDENTIFY PACKET word 0 bits 6:5 = 10b, "accelerated DRQ"). Every data-in DRQ block gets an
//   interrupt with IO=1, CoD=0 and its length in LBA mid/high; completion sets IO=1, CoD=1 and
//   raises INTRQ. A CHECK CONDITION sets ERR (CHK) with the sense key in error bits 7:4.
// - The byte count limit bounds each DRQ block; 0 is taken as FFFEh and an odd limit is used
//   minus one unless the remainder fits. Blocks of an image read are whole 2048-byte sectors
//   when the limit allows.
// - Sense data is fixed format (70h, key in byte 2, additional length 10, ASC/ASCQ in bytes
//   12/13), held per drive until REQUEST SENSE or the next successful command. A pending UNIT
//   ATTENTION is reported by the next command other than INQUIRY, REQUEST SENSE, GET
//   CONFIGURATION and GET EVENT STATUS NOTIFICATION, once.
// - READ TOC format 0 returns track 1 (a data track: ADR 1, control 4) and the lead-out (AAh);
//   format 1 the first session. MSF addresses are LBA + 150 frames (75 per second).
#include "devices/ide.h"

#include <algorithm>
#include <cstring>

namespace vx86::devices {

namespace {

// Sense keys and additional sense codes.
constexpr uint8_t kSenseNotReady = 0x02, kSenseMediumError = 0x03, kSenseIllegal = 0x05,
                  kSenseUnitAttention = 0x06;
constexpr uint8_t kAscInvalidOpcode = 0x20, kAscLbaOutOfRange = 0x21, kAscInvalidField = 0x24,
                  kAscMediumChanged = 0x28, kAscSavingNotSupported = 0x39,
                  kAscMediumNotPresent = 0x3A, kAscRemovalPrevented = 0x53;

enum : uint8_t {
    kScsiTestUnitReady = 0x00, kScsiRequestSense = 0x03, kScsiInquiry = 0x12,
    kScsiModeSense6 = 0x1A, kScsiStartStop = 0x1B, kScsiPreventAllow = 0x1E,
    kScsiReadCapacity = 0x25, kScsiRead10 = 0x28, kScsiSeek10 = 0x2B, kScsiReadToc = 0x43,
    kScsiGetConfiguration = 0x46, kScsiGetEventStatus = 0x4A, kScsiReadDiscInfo = 0x51,
    kScsiModeSense10 = 0x5A, kScsiRead12 = 0xA8, kScsiSetCdSpeed = 0xBB,
};

// Interrupt reason (sector count register).
constexpr uint8_t kReasonCod = 0x01, kReasonIo = 0x02;

uint16_t be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
uint32_t be32(const uint8_t* p) {
    return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
void put16(uint8_t* p, uint16_t v) {
    p[0] = uint8_t(v >> 8);
    p[1] = uint8_t(v);
}
void put32(uint8_t* p, uint32_t v) {
    put16(p, uint16_t(v >> 16));
    put16(p + 2, uint16_t(v));
}
void put_ascii(uint8_t* p, size_t n, const char* s) {
    size_t len = std::strlen(s);
    for (size_t i = 0; i < n; ++i) p[i] = i < len ? uint8_t(s[i]) : uint8_t(' ');
}
// A TOC address field: LBA, or 0/M/S/F of LBA + 150 frames.
void put_addr(uint8_t* p, uint32_t lba, bool msf) {
    if (!msf) return put32(p, lba);
    uint64_t f = uint64_t(lba) + 150;
    p[0] = 0;
    p[1] = uint8_t(std::min<uint64_t>(f / (60 * 75), 0xFF));
    p[2] = uint8_t(f / 75 % 60);
    p[3] = uint8_t(f % 75);
}

}  // namespace

bool IdeChannel::medium_ready(const Drive& d) const { return d.dev && !d.tray_open; }

uint64_t IdeChannel::cd_blocks(const Drive& d) const {
    return medium_ready(d) ? d.dev->size() / kCdSectorSize : 0;
}

void IdeChannel::identify_packet(Drive& d) {
    std::array<uint16_t, 256> w{};
    unsigned unit = unsigned(&d - drives_.data());
    w[0] = 0x85C0;  // ATAPI, CD-ROM, removable, accelerated DRQ, 12-byte packets
    fill_ids(w, unit, "VX86 CD-ROM");
    w[49] = 0x0B00;  // IORDY, LBA, DMA
    w[53] = 0x0006;  // words 64-70 and 88 valid
    w[63] = uint16_t(0x0007 | d.mwdma_sel << 8);
    w[64] = 0x0003;
    w[65] = w[66] = w[67] = w[68] = 120;
    w[80] = 0x0070;  // ATA/ATAPI-4 .. 6
    w[82] = 0x4218;  // NOP, DEVICE RESET, PACKET, power management
    w[83] = 0x4000;
    w[84] = 0x4000;
    w[85] = 0x4218;
    w[87] = 0x4000;
    w[88] = uint16_t(0x003F | d.udma_sel << 8);
    w[93] = unit == 0 ? 0x600B : 0x6B00;
    send_identify(d, w);
}

void IdeChannel::packet_command(Drive& d) {
    atapi_cmd_ = true;
    atapi_dma_ = d.feature.cur & 0x01;
    byte_limit_ = uint16_t(d.lbam.cur | d.lbah.cur << 8);
    d.standby = false;
    phase_ = Phase::kPacket;
    pio_pos_ = 0;
    pio_len_ = 12;
    d.nsect.cur = kReasonCod;
    d.status = kAtaStDrdy | kAtaStDsc | kAtaStDrq;
}

void IdeChannel::atapi_ok(Drive& d) {
    phase_ = Phase::kIdle;
    d.status = kAtaStDrdy | kAtaStDsc;
    d.error = 0;
    d.nsect.cur = kReasonIo | kReasonCod;
    d.sense_key = d.asc = d.ascq = 0;
    set_intrq();
}

void IdeChannel::atapi_check(Drive& d, uint8_t key, uint8_t asc, uint8_t ascq) {
    phase_ = Phase::kIdle;
    d.sense_key = key;
    d.asc = asc;
    d.ascq = ascq;
    d.status = kAtaStDrdy | kAtaStDsc | kAtaStErr;
    d.error = uint8_t(key << 4);
    d.nsect.cur = kReasonIo | kReasonCod;
    set_intrq();
}

void IdeChannel::atapi_reply(Drive& d, size_t alloc) {
    from_image_ = false;
    total_ = std::min(resp_.size(), alloc);
    pos_ = 0;
    atapi_start_data(d);
}

void IdeChannel::atapi_read(Drive& d, uint64_t lba, uint64_t blocks) {
    if (!medium_ready(d)) return atapi_check(d, kSenseNotReady, kAscMediumNotPresent);
    uint64_t n = cd_blocks(d);
    if (lba > n || blocks > n - lba) return atapi_check(d, kSenseIllegal, kAscLbaOutOfRange);
    from_image_ = true;
    img_base_ = lba * kCdSectorSize;
    total_ = blocks * kCdSectorSize;
    pos_ = 0;
    atapi_start_data(d);
}

void IdeChannel::atapi_start_data(Drive& d) {
    to_device_ = false;
    if (total_ == 0) return atapi_ok(d);
    if (atapi_dma_) {
        if (!dma_) return atapi_check(d, kSenseIllegal, kAscInvalidField);
        phase_ = Phase::kDma;
        d.nsect.cur = kReasonIo;
        d.status = kAtaStDrdy | kAtaStDsc | kAtaStDrq;
        dma_->dma_requested();
        return;
    }
    atapi_next_chunk(d);
}

void IdeChannel::atapi_next_chunk(Drive& d) {
    uint32_t limit = byte_limit_ ? byte_limit_ : 0xFFFE;
    uint64_t rem = total_ - pos_;
    uint32_t n;
    if (rem <= limit) {
        n = uint32_t(rem);
    } else {
        n = std::max<uint32_t>(limit & ~1u, 2);
        if (from_image_ && n >= kCdSectorSize) n -= n % kCdSectorSize;
    }
    if (!source_read(pio_.data(), n)) return atapi_check(d, kSenseMediumError, 0x11);
    pio_pos_ = 0;
    pio_len_ = n;
    phase_ = Phase::kPioIn;
    d.nsect.cur = kReasonIo;
    d.lbam.cur = uint8_t(n);
    d.lbah.cur = uint8_t(n >> 8);
    d.status = kAtaStDrdy | kAtaStDsc | kAtaStDrq;
    set_intrq();
}

void IdeChannel::atapi_execute() {
    Drive& d = drives_[active_];
    std::memcpy(cdb_.data(), pio_.data(), cdb_.size());
    const uint8_t* c = cdb_.data();
    uint8_t op = c[0];
    bool ua_exempt = op == kScsiInquiry || op == kScsiRequestSense ||
                     op == kScsiGetConfiguration || op == kScsiGetEventStatus;
    if (d.unit_attention && !ua_exempt) {
        d.unit_attention = false;
        return atapi_check(d, kSenseUnitAttention, kAscMediumChanged);
    }
    switch (op) {
    case kScsiTestUnitReady:
        if (!medium_ready(d)) return atapi_check(d, kSenseNotReady, kAscMediumNotPresent);
        return atapi_ok(d);
    case kScsiRequestSense: {
        if (d.unit_attention) {
            d.unit_attention = false;
            d.sense_key = kSenseUnitAttention;
            d.asc = kAscMediumChanged;
            d.ascq = 0;
        }
        resp_.assign(18, 0);
        resp_[0] = 0x70;  // current error, fixed format
        resp_[2] = d.sense_key;
        resp_[7] = 10;
        resp_[12] = d.asc;
        resp_[13] = d.ascq;
        return atapi_reply(d, c[4]);
    }
    case kScsiInquiry: {
        if (c[1] & 0x01) return atapi_check(d, kSenseIllegal, kAscInvalidField);  // no VPD
        resp_.assign(36, 0);
        resp_[0] = 0x05;  // CD/DVD device
        resp_[1] = 0x80;  // removable
        resp_[3] = 0x21;  // ATAPI version 2, response data format 1
        resp_[4] = 31;
        put_ascii(&resp_[8], 8, "VX86");
        put_ascii(&resp_[16], 16, "CD-ROM");
        put_ascii(&resp_[32], 4, "0.1");
        return atapi_reply(d, be16(c + 3));
    }
    case kScsiModeSense6: return atapi_mode_sense(d, c, false);
    case kScsiModeSense10: return atapi_mode_sense(d, c, true);
    case kScsiStartStop: return atapi_start_stop(d, c);
    case kScsiPreventAllow:
        d.locked = c[4] & 0x01;
        return atapi_ok(d);
    case kScsiReadCapacity: {
        if (!medium_ready(d)) return atapi_check(d, kSenseNotReady, kAscMediumNotPresent);
        uint64_t n = cd_blocks(d);
        resp_.assign(8, 0);
        put32(&resp_[0], uint32_t(std::min<uint64_t>(n ? n - 1 : 0, 0xFFFFFFFFu)));
        put32(&resp_[4], kCdSectorSize);
        return atapi_reply(d, 8);
    }
    case kScsiRead10: return atapi_read(d, be32(c + 2), be16(c + 7));
    case kScsiRead12: return atapi_read(d, be32(c + 2), be32(c + 6));
    case kScsiSeek10:
        if (!medium_ready(d)) return atapi_check(d, kSenseNotReady, kAscMediumNotPresent);
        if (be32(c + 2) >= cd_blocks(d)) return atapi_check(d, kSenseIllegal, kAscLbaOutOfRange);
        return atapi_ok(d);
    case kScsiReadToc: return atapi_read_toc(d, c);
    case kScsiGetConfiguration: return atapi_get_configuration(d, c);
    case kScsiGetEventStatus: return atapi_event_status(d, c);
    case kScsiReadDiscInfo: {
        if ((c[1] & 0x07) != 0) return atapi_check(d, kSenseIllegal, kAscInvalidField);
        if (!medium_ready(d)) return atapi_check(d, kSenseNotReady, kAscMediumNotPresent);
        resp_.assign(34, 0);
        put16(&resp_[0], 32);
        resp_[2] = 0x0E;  // last session complete, disc complete, not erasable
        resp_[3] = 1;     // first track
        resp_[4] = 1;     // sessions
        resp_[5] = 1;     // first track of the last session
        resp_[6] = 1;     // last track of the last session
        resp_[7] = 0x20;  // unrestricted use
        return atapi_reply(d, be16(c + 7));
    }
    case kScsiSetCdSpeed: return atapi_ok(d);
    default: return atapi_check(d, kSenseIllegal, kAscInvalidOpcode);
    }
}

void IdeChannel::atapi_start_stop(Drive& d, const uint8_t* c) {
    bool start = c[4] & 0x01, loej = c[4] & 0x02;
    if (loej && !start) {  // eject: open the tray
        if (d.locked) return atapi_check(d, kSenseIllegal, kAscRemovalPrevented, 0x02);
        if (!d.tray_open && d.dev) d.media_event = 3;  // MediaRemoval
        d.tray_open = true;
    } else if (loej && start && d.tray_open) {  // load: close the tray
        d.tray_open = false;
        if (d.dev) {
            d.unit_attention = true;
            d.media_event = 2;  // NewMedia
        }
    }
    atapi_ok(d);
}

void IdeChannel::atapi_mode_sense(Drive& d, const uint8_t* c, bool ten) {
    uint8_t pc = c[2] >> 6, page = c[2] & 0x3F;
    size_t alloc = ten ? be16(c + 7) : c[4];
    if (pc == 3) return atapi_check(d, kSenseIllegal, kAscSavingNotSupported);
    bool changeable = pc == 1;  // no parameter can be changed: all zero
    std::vector<uint8_t> pages;
    if (page == 0x01 || page == 0x3F) {  // read error recovery
        uint8_t p[8] = {0x01, 0x06, 0x00, 0x05, 0, 0, 0, 0};
        if (changeable) p[3] = 0;
        pages.insert(pages.end(), p, p + 8);
    }
    if (page == 0x2A || page == 0x3F) {  // CD capabilities and mechanical status
        uint8_t p[20] = {0x2A, 0x12};
        if (!changeable) {
            p[4] = 0x40;                                     // multi-session
            p[6] = uint8_t(0x29 | (d.locked ? 0x02 : 0x00)); // tray, eject, lock (+state)
            put16(&p[8], 5632);                              // max read speed (kB/s), 32x
            put16(&p[12], 512);                              // buffer (KiB)
            put16(&p[14], 5632);                             // current read speed
        }
        pages.insert(pages.end(), p, p + 20);
    }
    if (pages.empty()) return atapi_check(d, kSenseIllegal, kAscInvalidField);
    size_t hdr = ten ? 8 : 4;
    resp_.assign(hdr, 0);
    resp_.insert(resp_.end(), pages.begin(), pages.end());
    if (ten) put16(&resp_[0], uint16_t(resp_.size() - 2));
    else resp_[0] = uint8_t(resp_.size() - 1);
    atapi_reply(d, alloc);
}

void IdeChannel::atapi_read_toc(Drive& d, const uint8_t* c) {
    if (!medium_ready(d)) return atapi_check(d, kSenseNotReady, kAscMediumNotPresent);
    bool msf = c[1] & 0x02;
    uint8_t fmt = c[2] & 0x0F;
    if (fmt == 0) fmt = c[9] >> 6;  // SFF-8020 placed the format in the control byte
    uint8_t track = c[6];
    uint32_t blocks = uint32_t(std::min<uint64_t>(cd_blocks(d), 0xFFFFFFFFu));
    resp_.assign(4, 0);
    if (fmt == 0) {
        if (track > 1 && track != 0xAA) return atapi_check(d, kSenseIllegal, kAscInvalidField);
        auto add = [&](uint8_t number, uint32_t lba) {
            uint8_t e[8] = {0, 0x14, number, 0};
            put_addr(&e[4], lba, msf);
            resp_.insert(resp_.end(), e, e + 8);
        };
        if (track <= 1) add(1, 0);
        add(0xAA, blocks);
        resp_[2] = 1;
        resp_[3] = 1;
    } else if (fmt == 1) {
        uint8_t e[8] = {0, 0x14, 1, 0};
        put_addr(&e[4], 0, msf);
        resp_.insert(resp_.end(), e, e + 8);
        resp_[2] = 1;
        resp_[3] = 1;
    } else {
        return atapi_check(d, kSenseIllegal, kAscInvalidField);
    }
    put16(&resp_[0], uint16_t(resp_.size() - 2));
    atapi_reply(d, be16(c + 7));
}

void IdeChannel::atapi_get_configuration(Drive& d, const uint8_t* c) {
    uint8_t rt = c[1] & 0x03;
    uint16_t start = be16(c + 2);
    if (rt == 3) return atapi_check(d, kSenseIllegal, kAscInvalidField);
    bool media = medium_ready(d);
    resp_.assign(8, 0);
    put16(&resp_[6], media ? 0x0008 : 0x0000);  // current profile: CD-ROM
    if (start == 0) {  // feature 0000h: the profile list (always current)
        uint8_t f[8] = {0x00, 0x00, 0x03, 0x04, 0x00, 0x08, uint8_t(media ? 1 : 0), 0x00};
        resp_.insert(resp_.end(), f, f + 8);
    }
    put32(&resp_[0], uint32_t(resp_.size() - 4));
    atapi_reply(d, be16(c + 7));
}

void IdeChannel::atapi_event_status(Drive& d, const uint8_t* c) {
    if (!(c[1] & 0x01)) return atapi_check(d, kSenseIllegal, kAscInvalidField);  // polled only
    uint8_t request = c[4];
    resp_.assign(4, 0);
    resp_[3] = 0x10;  // supported classes: media
    if (request & 0x10) {
        resp_[2] = 0x04;  // media class
        uint8_t e[4] = {d.media_event,
                        uint8_t((d.tray_open ? 0x01 : 0) | (medium_ready(d) ? 0x02 : 0)), 0, 0};
        d.media_event = 0;
        resp_.insert(resp_.end(), e, e + 4);
    } else {
        resp_[2] = 0x80;  // no event available
    }
    put16(&resp_[0], uint16_t(resp_.size() - 2));
    atapi_reply(d, be16(c + 7));
}

}  // namespace vx86::devices
