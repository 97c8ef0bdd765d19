// ACPI tables and the AML encoder behind the DSDT (see acpi_tables.h for the design).
//
// AML encoding used here (ACPI 1.0/2.0 specification, chapter "ACPI Machine Language"):
// - PkgLength: the length of the package counting the PkgLength bytes themselves. One byte
//   (bits 5:0) up to 63; otherwise bits 7:6 of the lead byte give the count (1-3) of following
//   bytes, the lead byte's bits 3:0 are the low nibble and each following byte the next 8 bits.
// - NameString: optional RootChar '\' then one NameSeg (4 chars, '_'-padded), DualNamePrefix
//   0x2E + two segs, or MultiNamePrefix 0x2F + count + segs.
// - Objects: DefName 0x08 NameString DataObject; DefScope 0x10 PkgLength NameString TermList;
//   DefDevice 0x5B 0x82 PkgLength NameString TermList; DefPackage 0x12 PkgLength NumElements
//   (byte) elements; DefBuffer 0x11 PkgLength BufferSize(integer) bytes. Integers: ZeroOp 0x00,
//   OneOp 0x01, BytePrefix 0x0A, WordPrefix 0x0B, DWordPrefix 0x0C; strings StringPrefix 0x0D
//   + ASCII + NUL. EisaId values are always DWord-encoded (SeaBIOS matches "0C 41 D0 ..").
// - Resource descriptors (inside a _CRS buffer): small items IO 0x47 (decode, min, max, align,
//   length), IRQ 0x22 (16-bit mask, edge/high), DMA 0x2A (channel mask, flags), End Tag 0x79
//   with a checksum that makes the whole template sum to 0; large items Word Address 0x88 and
//   DWord Address 0x87 (type, general flags, type-specific flags, granularity, min, max,
//   translation, length).
#include "devices/acpi_tables.h"
#include "devices/fw_cfg.h"

#include <initializer_list>
#include <string>
#include <string_view>

namespace vx86::devices {

namespace {

using Bytes = std::vector<uint8_t>;

void put8(Bytes& b, uint32_t v) { b.push_back(uint8_t(v)); }
void put16(Bytes& b, uint32_t v) {
    b.push_back(uint8_t(v));
    b.push_back(uint8_t(v >> 8));
}
void put32(Bytes& b, uint32_t v) {
    put16(b, v);
    put16(b, v >> 16);
}
void poke32(Bytes& b, size_t off, uint32_t v) {
    for (unsigned i = 0; i < 4; ++i) b[off + i] = uint8_t(v >> (8 * i));
}
void append(Bytes& b, const Bytes& more) { b.insert(b.end(), more.begin(), more.end()); }
void put_chars(Bytes& b, std::string_view s, size_t n) {  // padded with spaces
    for (size_t i = 0; i < n; ++i) b.push_back(uint8_t(i < s.size() ? s[i] : ' '));
}

// ---------------------------------------------------------------------------------------------
// AML

Bytes pkg_length(size_t body) {
    Bytes b;
    if (body + 1 <= 0x3F) {
        b.push_back(uint8_t(body + 1));
        return b;
    }
    for (unsigned extra = 1; extra <= 3; ++extra) {
        size_t total = body + 1 + extra;
        if (total < (size_t(1) << (4 + 8 * extra))) {
            b.push_back(uint8_t(extra << 6 | (total & 0x0F)));
            for (unsigned i = 0; i < extra; ++i) b.push_back(uint8_t(total >> (4 + 8 * i)));
            return b;
        }
    }
    return b;  // > 256 MiB: never built here
}

Bytes name_seg(std::string_view s) {
    Bytes b;
    for (size_t i = 0; i < 4; ++i) b.push_back(uint8_t(i < s.size() ? s[i] : '_'));
    return b;
}

// "\\_SB_.PCI0", "_CRS", "\\_S5_" -> NameString.
Bytes name_string(std::string_view path) {
    Bytes b;
    if (!path.empty() && path[0] == '\\') {
        b.push_back('\\');
        path.remove_prefix(1);
    }
    std::vector<std::string_view> segs;
    while (!path.empty()) {
        size_t dot = path.find('.');
        segs.push_back(path.substr(0, dot));
        path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
    }
    if (segs.size() == 2)
        b.push_back(0x2E);
    else if (segs.size() > 2) {
        b.push_back(0x2F);
        b.push_back(uint8_t(segs.size()));
    } else if (segs.empty()) {
        b.push_back(0x00);  // NullName
    }
    for (auto s : segs) append(b, name_seg(s));
    return b;
}

Bytes aml_int(uint32_t v) {
    Bytes b;
    if (v == 0) {
        b.push_back(0x00);
    } else if (v == 1) {
        b.push_back(0x01);
    } else if (v <= 0xFF) {
        b.push_back(0x0A);
        put8(b, v);
    } else if (v <= 0xFFFF) {
        b.push_back(0x0B);
        put16(b, v);
    } else {
        b.push_back(0x0C);
        put32(b, v);
    }
    return b;
}

Bytes aml_dword(uint32_t v) {
    Bytes b{0x0C};
    put32(b, v);
    return b;
}

// EisaId("PNP0A03"): three letters of 5 bits (A = 1) and four hex digits, stored big-endian.
Bytes aml_eisaid(std::string_view id) {
    auto hex = [](char c) { return uint32_t(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10); };
    uint32_t v = uint32_t(id[0] - '@') << 26 | uint32_t(id[1] - '@') << 21 |
                 uint32_t(id[2] - '@') << 16 | hex(id[3]) << 12 | hex(id[4]) << 8 |
                 hex(id[5]) << 4 | hex(id[6]);
    Bytes b{0x0C, uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)};
    return b;
}

Bytes aml_pkg_op(std::initializer_list<uint8_t> op, const Bytes& body) {
    Bytes b(op);
    append(b, pkg_length(body.size()));
    append(b, body);
    return b;
}

Bytes aml_name(std::string_view name, const Bytes& obj) {
    Bytes b{0x08};
    append(b, name_string(name));
    append(b, obj);
    return b;
}

Bytes aml_scope(std::string_view name, const Bytes& terms) {
    Bytes body = name_string(name);
    append(body, terms);
    return aml_pkg_op({0x10}, body);
}

Bytes aml_device(std::string_view name, const Bytes& terms) {
    Bytes body = name_string(name);
    append(body, terms);
    return aml_pkg_op({0x5B, 0x82}, body);
}

Bytes aml_package(const std::vector<Bytes>& elems) {
    Bytes body{uint8_t(elems.size())};
    for (const Bytes& e : elems) append(body, e);
    return aml_pkg_op({0x12}, body);
}

Bytes aml_buffer(const Bytes& data) {
    Bytes body = aml_int(uint32_t(data.size()));
    append(body, data);
    return aml_pkg_op({0x11}, body);
}

// A resource template (the bytes of a _CRS buffer).
class Resources {
public:
    // IO(Decode16, base, base, 1, len): a fixed range.
    Resources& io(uint16_t base, uint8_t len) {
        b_.insert(b_.end(), {0x47, 0x01});
        put16(b_, base);
        put16(b_, base);
        b_.insert(b_.end(), {0x01, len});
        return *this;
    }
    Resources& irq(unsigned n) {  // IRQNoFlags: edge, active high, exclusive
        b_.push_back(0x22);
        put16(b_, 1u << n);
        return *this;
    }
    Resources& dma(unsigned ch, uint8_t flags) {
        b_.insert(b_.end(), {0x2A, uint8_t(1u << ch), flags});
        return *this;
    }
    // WordBusNumber / WordIO (producer, MinFixed, MaxFixed, PosDecode).
    Resources& word_range(uint8_t type, uint8_t type_flags, uint16_t min, uint16_t max) {
        b_.push_back(0x88);
        put16(b_, 13);
        b_.insert(b_.end(), {type, 0x0C, type_flags});
        put16(b_, 0);
        put16(b_, min);
        put16(b_, max);
        put16(b_, 0);
        put16(b_, uint32_t(max) - min + 1);
        return *this;
    }
    // DWordMemory (producer, PosDecode, MinFixed, MaxFixed, ReadWrite, `cache` in bits 2:1).
    Resources& dword_memory(uint8_t cache, uint32_t min, uint32_t max) {
        b_.push_back(0x87);
        put16(b_, 23);
        b_.insert(b_.end(), {0x00, 0x0C, uint8_t(0x01 | cache << 1)});
        put32(b_, 0);
        put32(b_, min);
        put32(b_, max);
        put32(b_, 0);
        put32(b_, max - min + 1);
        return *this;
    }
    Bytes done() {
        Bytes b = b_;
        b.push_back(0x79);
        b.push_back(checksum_fix(b.data(), b.size()));
        return b;
    }

private:
    Bytes b_;
};

constexpr uint8_t kRangeMemory = 0, kRangeIo = 1, kRangeBus = 2;
constexpr uint8_t kIoEntireRange = 0x03;
constexpr uint8_t kMemNonCacheable = 0, kMemCacheable = 1;

Bytes isa_device(std::string_view name, std::string_view hid, const Bytes& crs,
                 int uid = -1) {
    Bytes t = aml_name("_HID", aml_eisaid(hid));
    if (uid >= 0) append(t, aml_name("_UID", aml_int(uint32_t(uid))));
    append(t, aml_name("_CRS", aml_buffer(crs)));
    return aml_device(name, t);
}

Bytes isa_bridge() {
    Bytes t = aml_name("_ADR", aml_int(0x00010000));
    append(t, isa_device("KBD_", "PNP0303", Resources().io(0x60, 1).io(0x64, 1).irq(1).done()));
    append(t, isa_device("MOU_", "PNP0F13", Resources().irq(12).done()));
    append(t, isa_device("RTC_", "PNP0B00", Resources().io(0x70, 2).irq(8).done()));
    append(t, isa_device("COM1", "PNP0501", Resources().io(0x3F8, 8).irq(4).done(), 1));
    append(t, isa_device("COM2", "PNP0501", Resources().io(0x2F8, 8).irq(3).done(), 2));
    // DMA(Compatibility, NotBusMaster, Transfer8) {2}
    append(t, isa_device("FDC0", "PNP0700",
                         Resources().io(0x3F0, 6).io(0x3F7, 1).irq(6).dma(2, 0x00).done()));
    append(t, isa_device("PIC_", "PNP0000",
                         Resources().io(0x20, 2).io(0xA0, 2).io(0x4D0, 2).irq(2).done()));
    append(t, isa_device("TMR_", "PNP0100", Resources().io(0x40, 4).irq(0).done()));
    append(t, isa_device("SPKR", "PNP0800", Resources().io(0x61, 1).done()));
    // The 8237 pair and the page registers the machine decodes; DMA 4 is the cascade.
    // DMA(Compatibility, NotBusMaster, Transfer8_16) {4}
    append(t, isa_device("DMAC", "PNP0200",
                         Resources()
                             .io(0x00, 16)
                             .io(0x81, 3)
                             .io(0x87, 1)
                             .io(0x89, 3)
                             .io(0x8F, 1)
                             .io(0xC0, 32)
                             .dma(4, 0x01)
                             .done()));
    append(t, isa_device("FPU_", "PNP0C04", Resources().io(0xF0, 16).irq(13).done()));
    return aml_device("ISA_", t);
}

Bytes pci_root(const AcpiConfig& cfg) {
    // No _ADR next to the _HID: ACPI wants one or the other (iasl warns about both).
    Bytes t = aml_name("_HID", aml_eisaid("PNP0A03"));
    append(t, aml_name("_UID", aml_int(0)));
    append(t, aml_name("_BBN", aml_int(0)));

    Resources crs;
    crs.word_range(kRangeBus, 0, 0x00, 0xFF)
        .io(0xCF8, 8)
        .word_range(kRangeIo, kIoEntireRange, 0x0000, 0x0CF7)
        .word_range(kRangeIo, kIoEntireRange, 0x0D00, 0xFFFF)
        .dword_memory(kMemCacheable, 0x000A0000, 0x000BFFFF);
    constexpr uint32_t kHoleEnd = 0xFEBFFFFF;  // 0xFEC00000 up: APIC/BIOS area
    uint32_t hole = cfg.ram_bytes < 0x00100000 ? 0x00100000 : cfg.ram_bytes;
    if (hole <= kHoleEnd) crs.dword_memory(kMemNonCacheable, hole, kHoleEnd);
    append(t, aml_name("_CRS", aml_buffer(crs.done())));

    std::vector<Bytes> prt;
    for (uint32_t slot = 1; slot < 32; ++slot) {
        for (uint32_t pin = 0; pin < 4; ++pin) {
            uint8_t gsi = cfg.pirq_irq[(slot + pin - 1) & 3];
            prt.push_back(aml_package(
                {aml_dword(slot << 16 | 0xFFFF), aml_int(pin), aml_int(0), aml_int(gsi)}));
        }
    }
    append(t, aml_name("_PRT", aml_package(prt)));
    append(t, isa_bridge());
    return aml_device("PCI0", t);
}

// ---------------------------------------------------------------------------------------------
// Tables

constexpr size_t kHeaderSize = 36;
constexpr size_t kFacsSize = 64, kFadtSize = 116, kRsdtSize = kHeaderSize + 4, kRsdpSize = 20;

void header(Bytes& b, const char* sig, uint32_t len, uint8_t rev) {
    put_chars(b, sig, 4);
    put32(b, len);
    put8(b, rev);
    put8(b, 0);  // checksum, filled in last
    put_chars(b, "VX86", 6);
    put_chars(b, "VX86PC", 8);
    put32(b, 1);  // OEM revision
    put_chars(b, "VX86", 4);
    put32(b, 1);  // creator revision
}

void fix_checksum(Bytes& b, size_t table, size_t len, size_t field) {
    b[field] = 0;
    b[field] = checksum_fix(b.data() + table, len);
}

void align_to(Bytes& b, size_t a) {
    while (b.size() % a) b.push_back(0);
}

struct Layout {
    size_t facs = 0, dsdt = 0, dsdt_len = 0, fadt = 0, rsdt = 0;
};

// FADT offsets (ACPI 1.0 layout).
enum : size_t {
    kFadtFacs = 36, kFadtDsdt = 40, kFadtIntModel = 44, kFadtSciInt = 46, kFadtSmiCmd = 48,
    kFadtAcpiEnable = 52, kFadtAcpiDisable = 53, kFadtPm1aEvt = 56, kFadtPm1aCnt = 64,
    kFadtPmTmr = 76, kFadtGpe0 = 80, kFadtPm1EvtLen = 88, kFadtPm1CntLen = 89,
    kFadtPmTmrLen = 91, kFadtGpe0Len = 92, kFadtPLvl2Lat = 96, kFadtPLvl3Lat = 98,
    kFadtCentury = 108, kFadtFlags = 112,
};
constexpr uint32_t kFadtFlagWbinvd = 1u << 0, kFadtFlagProcC1 = 1u << 2,
                   kFadtFlagSlpButton = 1u << 5;

// Lays the tables out at `base` (pointers absolute to it) with correct checksums.
Layout build_tables(const AcpiConfig& cfg, uint32_t base, Bytes& t, Bytes& rsdp) {
    Layout l;
    t.clear();

    l.facs = t.size();  // offset 0: 64-byte aligned with the allocation
    put_chars(t, "FACS", 4);
    put32(t, kFacsSize);
    put32(t, 0);  // hardware signature
    put32(t, 0);  // firmware waking vector
    put32(t, 0);  // global lock
    put32(t, 0);  // flags: no S4BIOS
    t.resize(l.facs + kFacsSize, 0);

    l.dsdt = t.size();
    Bytes aml = build_dsdt_aml(cfg);
    l.dsdt_len = kHeaderSize + aml.size();
    header(t, "DSDT", uint32_t(l.dsdt_len), 1);
    append(t, aml);
    fix_checksum(t, l.dsdt, l.dsdt_len, l.dsdt + 9);
    align_to(t, 8);

    l.fadt = t.size();
    header(t, "FACP", kFadtSize, 1);
    t.resize(l.fadt + kFadtSize, 0);
    uint8_t* f = t.data() + l.fadt;
    poke32(t, l.fadt + kFadtFacs, base + uint32_t(l.facs));
    poke32(t, l.fadt + kFadtDsdt, base + uint32_t(l.dsdt));
    f[kFadtIntModel] = 0;  // dual 8259
    f[kFadtSciInt] = cfg.sci_irq;
    poke32(t, l.fadt + kFadtSmiCmd, cfg.smi_cmd);
    f[kFadtAcpiEnable] = cfg.acpi_enable;
    f[kFadtAcpiDisable] = cfg.acpi_disable;
    poke32(t, l.fadt + kFadtPm1aEvt, cfg.pm_base);
    poke32(t, l.fadt + kFadtPm1aCnt, uint32_t(cfg.pm_base) + 4);
    poke32(t, l.fadt + kFadtPmTmr, uint32_t(cfg.pm_base) + 8);
    poke32(t, l.fadt + kFadtGpe0, cfg.gpe0_base);
    f[kFadtPm1EvtLen] = 4;
    f[kFadtPm1CntLen] = 2;
    f[kFadtPmTmrLen] = 4;
    f[kFadtGpe0Len] = 4;
    f[kFadtPLvl2Lat] = 0xFF;  // 0x0FFF > 100: no C2
    f[kFadtPLvl2Lat + 1] = 0x0F;
    f[kFadtPLvl3Lat] = 0xFF;  // 0x0FFF > 1000: no C3
    f[kFadtPLvl3Lat + 1] = 0x0F;
    f[kFadtCentury] = cfg.century_cmos;
    poke32(t, l.fadt + kFadtFlags, kFadtFlagWbinvd | kFadtFlagProcC1 | kFadtFlagSlpButton);
    fix_checksum(t, l.fadt, kFadtSize, l.fadt + 9);
    align_to(t, 8);

    l.rsdt = t.size();
    header(t, "RSDT", kRsdtSize, 1);
    put32(t, base + uint32_t(l.fadt));
    fix_checksum(t, l.rsdt, kRsdtSize, l.rsdt + 9);

    rsdp.clear();
    put_chars(rsdp, "RSD PTR ", 8);
    put8(rsdp, 0);  // checksum
    put_chars(rsdp, "VX86", 6);
    put8(rsdp, 0);  // revision 0: ACPI 1.0
    put32(rsdp, base + uint32_t(l.rsdt));
    fix_checksum(rsdp, 0, kRsdpSize, 8);
    return l;
}

// The linker/loader script: 128-byte entries, each built in place at the end of `b`.
class Loader {
public:
    void allocate(const char* file, uint32_t align, uint8_t zone) {
        size_t e = entry(kLoaderAllocate);
        name(e + 4, file);
        poke32(b, e + 4 + kLoaderFileNameSize, align);
        b[e + 8 + kLoaderFileNameSize] = zone;
    }
    void add_pointer(const char* dest, const char* src, uint32_t offset, uint8_t size) {
        size_t e = entry(kLoaderAddPointer);
        name(e + 4, dest);
        name(e + 4 + kLoaderFileNameSize, src);
        poke32(b, e + 4 + 2 * kLoaderFileNameSize, offset);
        b[e + 8 + 2 * kLoaderFileNameSize] = size;
    }
    void add_checksum(const char* file, uint32_t offset, uint32_t start, uint32_t length) {
        size_t e = entry(kLoaderAddChecksum);
        name(e + 4, file);
        poke32(b, e + 4 + kLoaderFileNameSize, offset);
        poke32(b, e + 8 + kLoaderFileNameSize, start);
        poke32(b, e + 12 + kLoaderFileNameSize, length);
    }
    Bytes b;

private:
    size_t entry(uint32_t command) {
        size_t e = b.size();
        b.resize(e + kLoaderEntrySize, 0);
        poke32(b, e, command);
        return e;
    }
    // A NUL-terminated name in a 56-byte field (longer names are cut).
    void name(size_t off, const char* s) {
        for (size_t i = 0; s[i] && i < kLoaderFileNameSize - 1; ++i) b[off + i] = uint8_t(s[i]);
    }
};

}  // namespace

std::vector<uint8_t> build_dsdt_aml(const AcpiConfig& cfg) {
    Bytes aml = aml_name("\\_S5_", aml_package({aml_int(cfg.s5_slp_typ), aml_int(cfg.s5_slp_typ),
                                                 aml_int(0), aml_int(0)}));
    append(aml, aml_scope("\\_SB_", pci_root(cfg)));
    return aml;
}

void place_acpi(const AcpiConfig& cfg, uint32_t tables_addr, std::vector<uint8_t>& tables_out,
                std::vector<uint8_t>& rsdp_out) {
    build_tables(cfg, tables_addr, tables_out, rsdp_out);
}

AcpiBlobs build_acpi(const AcpiConfig& cfg) {
    AcpiBlobs out;
    Layout l = build_tables(cfg, 0, out.tables, out.rsdp);
    Loader ld;
    ld.allocate(kAcpiRsdpFile, kAcpiRsdpAlign, kLoaderZoneFseg);
    ld.allocate(kAcpiTablesFile, kAcpiTablesAlign, kLoaderZoneHigh);
    ld.add_pointer(kAcpiTablesFile, kAcpiTablesFile, uint32_t(l.fadt + kFadtFacs), 4);
    ld.add_pointer(kAcpiTablesFile, kAcpiTablesFile, uint32_t(l.fadt + kFadtDsdt), 4);
    ld.add_pointer(kAcpiTablesFile, kAcpiTablesFile, uint32_t(l.rsdt + kHeaderSize), 4);
    ld.add_pointer(kAcpiRsdpFile, kAcpiTablesFile, 16, 4);
    ld.add_checksum(kAcpiTablesFile, uint32_t(l.dsdt + 9), uint32_t(l.dsdt), uint32_t(l.dsdt_len));
    ld.add_checksum(kAcpiTablesFile, uint32_t(l.fadt + 9), uint32_t(l.fadt), kFadtSize);
    ld.add_checksum(kAcpiTablesFile, uint32_t(l.rsdt + 9), uint32_t(l.rsdt), kRsdtSize);
    ld.add_checksum(kAcpiRsdpFile, 8, 0, kRsdpSize);
    out.loader = std::move(ld.b);
    return out;
}

}  // namespace vx86::devices
