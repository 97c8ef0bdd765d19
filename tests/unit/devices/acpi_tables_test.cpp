// ACPI tables: structure and checksums (ACPI 1.0 layouts), the linker/loader script (applied by
// a small interpreter written here the way SeaBIOS's romfile_loader applies it), and the DSDT,
// read back by an AML walker written here from the AML grammar (not from the encoder), with the
// _PRT checked against the PIIX3's real PIRQ routing.
#include "devices/acpi_tables.h"

#include <doctest/doctest.h>

#include <cstring>
#include <map>
#include <set>
#include <string>

#include "devices/piix3.h"
#include "devices/piix4_pm.h"
#include "test_clock.h"
#include "test_irq.h"

using namespace vx86;
using namespace vx86::devices;
using namespace std::string_literals;

namespace {

using Bytes = std::vector<uint8_t>;

uint32_t le16(const Bytes& b, size_t o) { return uint32_t(b.at(o) | b.at(o + 1) << 8); }
uint32_t le32(const Bytes& b, size_t o) { return le16(b, o) | le16(b, o + 2) << 16; }
uint8_t sum(const Bytes& b, size_t o, size_t n) {
    uint8_t s = 0;
    for (size_t i = 0; i < n; ++i) s = uint8_t(s + b.at(o + i));
    return s;
}
std::string str(const Bytes& b, size_t o, size_t n) {
    return std::string(reinterpret_cast<const char*>(b.data() + o), n);
}

// ---------------------------------------------------------------------------------------------
// A minimal AML reader: the subset a static DSDT uses (Name, Scope, Device, Package, Buffer,
// integers, strings). Records every named object by absolute path.

struct Aml {
    const Bytes& b;
    size_t base;  // offset of the AML in b
    std::map<std::string, size_t> names;  // "\\_SB_.PCI0._PRT" -> offset of its data object
    std::vector<std::string> devices;
    bool error = false;

    // PkgLength at `o`: returns the package length; *n gets the encoding's byte count.
    size_t pkglen(size_t o, size_t* n) const {
        uint8_t lead = b.at(o);
        unsigned follow = lead >> 6;
        *n = 1 + follow;
        if (follow == 0) return lead & 0x3F;
        size_t len = lead & 0x0F;
        for (unsigned i = 0; i < follow; ++i) len |= size_t(b.at(o + 1 + i)) << (4 + 8 * i);
        return len;
    }
    // NameString at `o` relative to `scope`; returns bytes used, the absolute path in *out.
    size_t namestring(size_t o, const std::string& scope, std::string* out) {
        size_t p = o;
        const bool root = b.at(p) == '\\';
        if (root) ++p;
        std::string prefix = root ? std::string(1, '\\') : scope;
        unsigned segs = 1;
        if (b.at(p) == 0x2E) {
            segs = 2;
            ++p;
        } else if (b.at(p) == 0x2F) {
            segs = b.at(p + 1);
            p += 2;
        } else if (b.at(p) == 0x00) {
            *out = prefix;
            return p + 1 - o;
        }
        std::string path = prefix;
        for (unsigned i = 0; i < segs; ++i) {
            if (path.size() > 1) path += '.';
            path += str(b, p, 4);
            p += 4;
        }
        *out = path;
        return p - o;
    }
    // Length of the data object at `o`.
    size_t object_len(size_t o) {
        size_t n = 0;
        switch (b.at(o)) {
            case 0x00: case 0x01: case 0xFF: return 1;
            case 0x0A: return 2;
            case 0x0B: return 3;
            case 0x0C: return 5;
            case 0x0D: {
                size_t p = o + 1;
                while (b.at(p)) ++p;
                return p + 1 - o;
            }
            case 0x11:
            case 0x12: return 1 + pkglen(o + 1, &n);
            default: error = true; return 1;
        }
    }
    uint32_t integer(size_t o) {
        switch (b.at(o)) {
            case 0x00: return 0;
            case 0x01: return 1;
            case 0x0A: return b.at(o + 1);
            case 0x0B: return le16(b, o + 1);
            case 0x0C: return le32(b, o + 1);
            default: error = true; return 0xDEAD;
        }
    }
    // Package at `o`: offsets of its elements.
    std::vector<size_t> elements(size_t o) {
        std::vector<size_t> out;
        if (b.at(o) != 0x12) {
            error = true;
            return out;
        }
        size_t n;
        size_t len = pkglen(o + 1, &n);
        size_t end = o + 1 + len;
        size_t p = o + 1 + n;
        unsigned count = b.at(p++);
        while (p < end) {
            out.push_back(p);
            p += object_len(p);
        }
        if (p != end || out.size() != count) error = true;
        return out;
    }
    // Buffer at `o`: its bytes.
    Bytes buffer(size_t o) {
        if (b.at(o) != 0x11) {
            error = true;
            return {};
        }
        size_t n;
        size_t len = pkglen(o + 1, &n);
        size_t p = o + 1 + n;
        uint32_t size = integer(p);
        p += object_len(p);
        if (p + size != o + 1 + len) error = true;
        return Bytes(b.begin() + long(p), b.begin() + long(p + size));
    }
    void termlist(size_t o, size_t end, const std::string& scope) {
        while (o < end && !error) {
            uint8_t op = b.at(o);
            if (op == 0x08) {
                std::string path;
                size_t p = o + 1 + namestring(o + 1, scope, &path);
                names[path] = p;
                o = p + object_len(p);
            } else if (op == 0x10 || (op == 0x5B && b.at(o + 1) == 0x82)) {
                size_t start = o + (op == 0x10 ? 1 : 2);
                size_t n;
                size_t len = pkglen(start, &n);
                std::string path;
                size_t p = start + n + namestring(start + n, scope, &path);
                if (op == 0x5B) devices.push_back(path);
                termlist(p, start + len, path);
                o = start + len;
            } else {
                error = true;
            }
        }
        if (o != end) error = true;
    }
    Aml(const Bytes& bytes, size_t off, size_t len) : b(bytes), base(off) {
        termlist(off, off + len, "\\");
    }
};

std::string eisa_to_string(uint32_t dword_le) {
    uint32_t v = (dword_le & 0xFF) << 24 | (dword_le >> 8 & 0xFF) << 16 |
                 (dword_le >> 16 & 0xFF) << 8 | dword_le >> 24;  // stored big-endian
    std::string s;
    s += char('@' + (v >> 26 & 0x1F));
    s += char('@' + (v >> 21 & 0x1F));
    s += char('@' + (v >> 16 & 0x1F));
    const char* hex = "0123456789ABCDEF";
    for (int sh = 12; sh >= 0; sh -= 4) s += hex[v >> sh & 0xF];
    return s;
}

// Resource template walker: I/O ranges (base, len), IRQ numbers, DMA channels, address ranges.
struct Crs {
    std::vector<std::pair<uint32_t, uint32_t>> io;
    std::vector<unsigned> irqs, dmas;
    struct Range {
        uint8_t type;
        uint32_t min, max, len;
    };
    std::vector<Range> ranges;
    bool ended = false;
    uint8_t total = 0;
    explicit Crs(const Bytes& r) {
        size_t p = 0;
        while (p < r.size()) {
            uint8_t tag = r[p];
            if (tag & 0x80) {
                uint32_t len = le16(r, p + 1);
                if (tag == 0x88)
                    ranges.push_back({r[p + 3], le16(r, p + 8), le16(r, p + 10), le16(r, p + 14)});
                else if (tag == 0x87)
                    ranges.push_back({r[p + 3], le32(r, p + 10), le32(r, p + 14), le32(r, p + 22)});
                p += 3 + len;
                continue;
            }
            unsigned kind = tag >> 3 & 0x0F, len = tag & 7;
            if (kind == 0x08) io.emplace_back(le16(r, p + 2), r[p + 7]);
            if (kind == 0x04)
                for (unsigned i = 0; i < 16; ++i)
                    if (le16(r, p + 1) >> i & 1) irqs.push_back(i);
            if (kind == 0x05)
                for (unsigned i = 0; i < 8; ++i)
                    if (r[p + 1] >> i & 1) dmas.push_back(i);
            if (kind == 0x0F) {
                ended = p + 2 == r.size();
                total = sum(r, 0, r.size());
                break;
            }
            p += 1 + len;
        }
    }
};

struct Placed {
    Bytes tables, rsdp;
    uint32_t base;
    size_t rsdt, fadt, facs, dsdt;
};

// Follows RSDP -> RSDT -> FADT -> FACS/DSDT in place_acpi's output.
Placed place_and_follow(const AcpiConfig& cfg, uint32_t base) {
    Placed p;
    p.base = base;
    place_acpi(cfg, base, p.tables, p.rsdp);
    auto at = [&](uint32_t addr) {
        REQUIRE(addr >= base);
        REQUIRE(addr - base < p.tables.size());
        return size_t(addr - base);
    };
    REQUIRE(p.rsdp.size() == 20);
    p.rsdt = at(le32(p.rsdp, 16));
    REQUIRE(str(p.tables, p.rsdt, 4) == "RSDT");
    REQUIRE(le32(p.tables, p.rsdt + 4) == 40);  // one entry
    p.fadt = at(le32(p.tables, p.rsdt + 36));
    REQUIRE(str(p.tables, p.fadt, 4) == "FACP");
    p.facs = at(le32(p.tables, p.fadt + 36));
    p.dsdt = at(le32(p.tables, p.fadt + 40));
    return p;
}

AcpiConfig test_config() {
    AcpiConfig c;
    c.ram_bytes = 128u << 20;
    return c;
}

}  // namespace

TEST_CASE("acpi: RSDP, RSDT, FADT, FACS and DSDT are linked, sized and checksummed") {
    Placed p = place_and_follow(test_config(), 0x07FE0000);
    const Bytes& t = p.tables;
    // RSDP (ACPI 1.0): "RSD PTR ", checksum over 20 bytes, OEM ID, revision 0.
    CHECK(str(p.rsdp, 0, 8) == "RSD PTR ");
    CHECK(sum(p.rsdp, 0, 20) == 0);
    CHECK(str(p.rsdp, 9, 6) == "VX86  ");
    CHECK(p.rsdp[15] == 0);
    // Every table: length in its header, checksum over that length, OEM IDs.
    for (size_t off : {p.rsdt, p.fadt, p.dsdt}) {
        uint32_t len = le32(t, off + 4);
        REQUIRE(off + len <= t.size());
        CHECK(sum(t, off, len) == 0);
        CHECK(str(t, off + 10, 6) == "VX86  ");
        CHECK(str(t, off + 16, 8) == "VX86PC  ");
    }
    CHECK(le32(t, p.fadt + 4) == 116);  // revision-1 FADT
    CHECK(t[p.fadt + 8] == 1);
    CHECK(str(t, p.dsdt, 4) == "DSDT");
    // FACS: no checksum, 64 bytes, 64-byte aligned in physical memory.
    CHECK(str(t, p.facs, 4) == "FACS");
    CHECK(le32(t, p.facs + 4) == 64);
    CHECK((p.base + p.facs) % 64 == 0);
    // No MADT, no HPET: the RSDT lists the FADT alone.
    CHECK(le32(t, p.rsdt + 4) == 36 + 4);
}

TEST_CASE("acpi: FADT fields describe the PIIX4 PM block and the PC") {
    AcpiConfig c = test_config();
    Placed p = place_and_follow(c, 0x00F00000);
    const Bytes& t = p.tables;
    size_t f = p.fadt;
    CHECK(le16(t, f + 46) == 9);       // SCI_INT
    CHECK(le32(t, f + 48) == 0xB2);    // SMI_CMD
    CHECK(t[f + 52] == 0xF1);          // ACPI_ENABLE
    CHECK(t[f + 53] == 0xF0);          // ACPI_DISABLE
    CHECK(le32(t, f + 56) == 0x600);   // PM1a_EVT_BLK
    CHECK(le32(t, f + 60) == 0);       // no PM1b
    CHECK(le32(t, f + 64) == 0x604);   // PM1a_CNT_BLK
    CHECK(le32(t, f + 72) == 0);       // no PM2
    CHECK(le32(t, f + 76) == 0x608);   // PM_TMR_BLK
    CHECK(le32(t, f + 80) == 0xAFE0);  // GPE0_BLK
    CHECK(t[f + 88] == 4);             // PM1_EVT_LEN
    CHECK(t[f + 89] == 2);             // PM1_CNT_LEN
    CHECK(t[f + 91] == 4);             // PM_TMR_LEN
    CHECK(t[f + 92] == 4);             // GPE0_BLK_LEN
    CHECK(le16(t, f + 96) > 100);      // no C2
    CHECK(le16(t, f + 98) > 1000);     // no C3
    CHECK(t[f + 108] == 0x32);         // CENTURY
    uint32_t flags = le32(t, f + 112);
    CHECK((flags & 1u << 0) != 0);     // WBINVD
    CHECK((flags & 1u << 2) != 0);     // PROC_C1
    CHECK((flags & 1u << 4) == 0);     // fixed-feature power button
    CHECK((flags & 1u << 5) != 0);     // no fixed sleep button
    CHECK((flags & 1u << 8) == 0);     // TMR_VAL_EXT clear: the PIIX4 timer is 24 bits

    c.pm_base = 0xB000;
    c.sci_irq = 11;
    c.acpi_enable = 0xA5;
    c.acpi_disable = 0x5A;
    p = place_and_follow(c, 0x00F00000);
    CHECK(le32(p.tables, p.fadt + 56) == 0xB000);
    CHECK(le32(p.tables, p.fadt + 64) == 0xB004);
    CHECK(le32(p.tables, p.fadt + 76) == 0xB008);
    CHECK(le16(p.tables, p.fadt + 46) == 11);
    CHECK(p.tables[p.fadt + 52] == 0xA5);
    CHECK(p.tables[p.fadt + 53] == 0x5A);
    CHECK(sum(p.tables, p.fadt, 116) == 0);
}

TEST_CASE("acpi: the DSDT parses; \\_S5_ names the PIIX4's soft-off SLP_TYP") {
    Placed p = place_and_follow(test_config(), 0x00F00000);
    uint32_t len = le32(p.tables, p.dsdt + 4);
    Aml aml(p.tables, p.dsdt + 36, len - 36);
    REQUIRE_FALSE(aml.error);
    REQUIRE(aml.names.count("\\_S5_") == 1);
    auto s5 = aml.elements(aml.names["\\_S5_"]);
    REQUIRE(s5.size() == 4);
    CHECK(aml.integer(s5[0]) == kPiix4SlpTypSoftOff);
    CHECK(aml.integer(s5[1]) == kPiix4SlpTypSoftOff);

    // The value the OS writes is the one that powers the PIIX4 model off.
    test::ManualClock clock;
    IoBus io;
    Piix4Pm pm(io, clock, IrqLine{});
    int offs = 0;
    pm.power_off = [&] { ++offs; };
    pm.config_write(0x40, 4, 0x601);
    pm.config_write(0x80, 1, 1);
    io.write(0x604, 2, aml.integer(s5[0]) << 10 | 1u << 13);
    CHECK(offs == 1);
    REQUIRE_FALSE(aml.error);
}

TEST_CASE("acpi: PCI0 and the ISA devices carry their real IDs and resources") {
    AcpiConfig c = test_config();
    Bytes aml_bytes = build_dsdt_aml(c);
    Aml aml(aml_bytes, 0, aml_bytes.size());
    REQUIRE_FALSE(aml.error);

    std::map<std::string, std::string> hid;  // device path -> EisaId
    for (const std::string& d : aml.devices) {
        auto it = aml.names.find(d + "._HID");
        if (it == aml.names.end()) continue;
        REQUIRE(aml_bytes.at(it->second) == 0x0C);  // DWord-encoded (SeaBIOS depends on it)
        hid[d] = eisa_to_string(le32(aml_bytes, it->second + 1));
    }
    CHECK(hid["\\_SB_.PCI0"] == "PNP0A03");
    std::multiset<std::string> ids;
    for (auto& [path, id] : hid) ids.insert(id);
    for (const char* want : {"PNP0303", "PNP0F13", "PNP0B00", "PNP0700", "PNP0000", "PNP0100",
                             "PNP0800", "PNP0C04", "PNP0200"})
        CHECK_MESSAGE(ids.count(want) == 1, want);
    CHECK(ids.count("PNP0501") == 2);
    CHECK(ids.count("PNP0103") == 0);  // no HPET
    CHECK(aml.names.count("\\_SB_.PCI0._ADR") == 0);  // _HID or _ADR, not both
    CHECK(aml.integer(aml.names["\\_SB_.PCI0._UID"]) == 0);
    CHECK(aml.integer(aml.names["\\_SB_.PCI0._BBN"]) == 0);
    CHECK(aml.integer(aml.names["\\_SB_.PCI0.ISA_._ADR"]) == 0x00010000);

    auto crs_of = [&](const std::string& id, int nth = 0) {
        for (auto& [path, h] : hid)
            if (h == id && nth-- == 0) return Crs(aml.buffer(aml.names[path + "._CRS"]));
        FAIL("no device " << id);
        return Crs(Bytes{0x79, 0x87});
    };
    Crs kbd = crs_of("PNP0303");
    CHECK(kbd.io == std::vector<std::pair<uint32_t, uint32_t>>{{0x60, 1}, {0x64, 1}});
    CHECK(kbd.irqs == std::vector<unsigned>{1});
    CHECK(kbd.ended);
    CHECK(kbd.total == 0);  // the end tag's checksum makes the template sum to 0
    CHECK(crs_of("PNP0F13").irqs == std::vector<unsigned>{12});
    Crs rtc = crs_of("PNP0B00");
    CHECK(rtc.io == std::vector<std::pair<uint32_t, uint32_t>>{{0x70, 2}});
    CHECK(rtc.irqs == std::vector<unsigned>{8});
    std::set<std::pair<uint32_t, unsigned>> coms;
    for (int i = 0; i < 2; ++i) {
        Crs com = crs_of("PNP0501", i);
        REQUIRE(com.io.size() == 1);
        CHECK(com.io[0].second == 8);
        REQUIRE(com.irqs.size() == 1);
        coms.insert({com.io[0].first, com.irqs[0]});
    }
    CHECK(coms == std::set<std::pair<uint32_t, unsigned>>{{0x3F8, 4}, {0x2F8, 3}});
    Crs fdc = crs_of("PNP0700");
    CHECK(fdc.io == std::vector<std::pair<uint32_t, uint32_t>>{{0x3F0, 6}, {0x3F7, 1}});
    CHECK(fdc.irqs == std::vector<unsigned>{6});
    CHECK(fdc.dmas == std::vector<unsigned>{2});
    CHECK(crs_of("PNP0C04").irqs == std::vector<unsigned>{13});
    CHECK(crs_of("PNP0C04").io.at(0).first == 0xF0);
    CHECK(crs_of("PNP0100").irqs == std::vector<unsigned>{0});

    // PCI0: bus numbers 0-255, config ports, I/O around them, VGA window, the PCI hole.
    Crs pci = crs_of("PNP0A03");
    CHECK(pci.ended);
    CHECK(pci.total == 0);
    CHECK(pci.io == std::vector<std::pair<uint32_t, uint32_t>>{{0xCF8, 8}});
    REQUIRE(pci.ranges.size() == 5);
    CHECK(pci.ranges[0].type == 2);
    CHECK(pci.ranges[0].min == 0);
    CHECK(pci.ranges[0].max == 0xFF);
    CHECK(pci.ranges[0].len == 0x100);
    CHECK(pci.ranges[1].type == 1);
    CHECK(pci.ranges[1].min == 0);
    CHECK(pci.ranges[1].max == 0xCF7);
    CHECK(pci.ranges[1].len == 0xCF8);
    CHECK(pci.ranges[2].min == 0xD00);
    CHECK(pci.ranges[2].max == 0xFFFF);
    CHECK(pci.ranges[2].len == 0xF300);
    CHECK(pci.ranges[3].type == 0);
    CHECK(pci.ranges[3].min == 0xA0000);
    CHECK(pci.ranges[3].max == 0xBFFFF);
    CHECK(pci.ranges[4].min == c.ram_bytes);
    CHECK(pci.ranges[4].max == 0xFEBFFFFF);
    CHECK(pci.ranges[4].len == 0xFEC00000 - c.ram_bytes);
}

TEST_CASE("acpi: _PRT covers slots 1-31 x INTA-D with the IRQs the PIIX3 actually routes") {
    AcpiConfig c = test_config();
    c.pirq_irq = {5, 9, 10, 11};  // distinct per PIRQ, so any rotation error shows
    Bytes aml_bytes = build_dsdt_aml(c);
    Aml aml(aml_bytes, 0, aml_bytes.size());
    REQUIRE_FALSE(aml.error);
    REQUIRE(aml.names.count("\\_SB_.PCI0._PRT") == 1);
    auto prt = aml.elements(aml.names["\\_SB_.PCI0._PRT"]);
    REQUIRE(prt.size() == 4 * 31);

    // The chipset model with its PIRQRC registers programmed the same way.
    test::IrqRecorder pic;
    Piix3 piix3(&pic);
    for (unsigned i = 0; i < 4; ++i) piix3.config_write(uint8_t(0x60 + i), 1, c.pirq_irq[i]);

    std::set<std::pair<unsigned, unsigned>> seen;
    for (size_t e : prt) {
        auto f = aml.elements(e);
        REQUIRE(f.size() == 4);
        uint32_t addr = aml.integer(f[0]);
        CHECK((addr & 0xFFFF) == 0xFFFF);  // any function
        unsigned slot = addr >> 16, pin = aml.integer(f[1]);
        REQUIRE(slot >= 1);
        REQUIRE(slot <= 31);
        REQUIRE(pin <= 3);
        CHECK(aml.integer(f[2]) == 0);  // source 0: the index is a GSI
        unsigned gsi = aml.integer(f[3]);
        seen.insert({slot, pin});

        piix3.route_intx(slot, pin + 1, true);
        unsigned high = 0, which = 99;
        for (unsigned i = 0; i < 16; ++i)
            if (pic.level[i]) ++high, which = i;
        piix3.route_intx(slot, pin + 1, false);
        CHECK(high == 1);
        CHECK_MESSAGE(which == gsi, "slot " << slot << " pin " << pin);
    }
    CHECK(seen.size() == 4 * 31);
    REQUIRE_FALSE(aml.error);
}

namespace {

// Applies a linker/loader script the way the firmware does: each file is "allocated" at the
// address the test chooses for its zone, pointers get that address added, checksums recomputed.
struct LoaderRun {
    std::map<std::string, Bytes> data;
    std::map<std::string, uint32_t> addr;
    std::vector<uint8_t> zones;
    std::vector<uint32_t> aligns;
    std::vector<std::string> order;
    int unknown = 0;
};

std::string fname(const Bytes& e, size_t off) {
    REQUIRE(e.at(off + 55) == 0);  // NUL-terminated within 56 bytes
    return std::string(reinterpret_cast<const char*>(e.data() + off));
}

LoaderRun run_loader(const AcpiBlobs& blobs, uint32_t fseg_addr, uint32_t high_addr) {
    LoaderRun r;
    std::map<std::string, const Bytes*> files = {{kAcpiRsdpFile, &blobs.rsdp},
                                                 {kAcpiTablesFile, &blobs.tables}};
    REQUIRE(blobs.loader.size() % 128 == 0);
    for (size_t o = 0; o < blobs.loader.size(); o += 128) {
        Bytes e(blobs.loader.begin() + long(o), blobs.loader.begin() + long(o + 128));
        uint32_t cmd = le32(e, 0);
        if (cmd == 1) {
            std::string f = fname(e, 4);
            REQUIRE(files.count(f) == 1);
            uint32_t align = le32(e, 60);
            uint8_t zone = e[64];
            r.order.push_back(f);
            r.zones.push_back(zone);
            r.aligns.push_back(align);
            r.data[f] = *files[f];
            r.addr[f] = zone == 2 ? fseg_addr : high_addr;
            CHECK(r.addr[f] % align == 0);
        } else if (cmd == 2) {
            std::string dst = fname(e, 4), src = fname(e, 60);
            uint32_t off = le32(e, 116);
            uint8_t size = e[120];
            REQUIRE(r.data.count(dst) == 1);
            REQUIRE(r.addr.count(src) == 1);
            REQUIRE(size == 4);
            REQUIRE(off + size <= r.data[dst].size());
            uint32_t v = le32(r.data[dst], off) + r.addr[src];
            for (unsigned i = 0; i < 4; ++i) r.data[dst][off + i] = uint8_t(v >> (8 * i));
        } else if (cmd == 3) {
            std::string f = fname(e, 4);
            uint32_t off = le32(e, 60), start = le32(e, 64), len = le32(e, 68);
            REQUIRE(r.data.count(f) == 1);
            Bytes& d = r.data[f];
            REQUIRE(off < d.size());
            REQUIRE(start + len <= d.size());
            d[off] = uint8_t(d[off] - sum(d, start, len));
        } else {
            ++r.unknown;
        }
    }
    return r;
}

}  // namespace

TEST_CASE("acpi: the table-loader script reproduces place_acpi at the chosen addresses") {
    AcpiConfig c = test_config();
    AcpiBlobs blobs = build_acpi(c);
    REQUIRE(blobs.loader.size() >= 128);
    // The first command allocates the RSDP in the F segment, 16-byte aligned.
    CHECK(le32(blobs.loader, 0) == 1);
    CHECK(str(blobs.loader, 4, 14) == "etc/acpi/rsdp\0"s);
    CHECK(le32(blobs.loader, 60) == 16);
    CHECK(blobs.loader[64] == 2);

    for (uint32_t high : {0x07FE0000u, 0x00F01240u, 0x3FFC0000u}) {
        LoaderRun r = run_loader(blobs, 0x000F5A40, high);
        CHECK(r.unknown == 0);
        REQUIRE(r.order == std::vector<std::string>{kAcpiRsdpFile, kAcpiTablesFile});
        CHECK(r.aligns[1] == 64);  // FACS alignment
        CHECK(r.zones[1] == 1);
        Bytes tables, rsdp;
        place_acpi(c, high, tables, rsdp);
        CHECK(r.data[kAcpiTablesFile] == tables);
        CHECK(r.data[kAcpiRsdpFile] == rsdp);
    }
    // The unrelocated blobs are valid tables too (checksums hold at base 0).
    Placed p0 = place_and_follow(c, 0);
    CHECK(p0.tables == blobs.tables);
    CHECK(p0.rsdp == blobs.rsdp);
}

TEST_CASE("acpi: the PCI hole follows the RAM size; AML package lengths of every size decode") {
    for (uint32_t ram : {16u << 20, 1024u << 20, 3u << 30}) {
        AcpiConfig c;
        c.ram_bytes = ram;
        Bytes aml_bytes = build_dsdt_aml(c);
        Aml aml(aml_bytes, 0, aml_bytes.size());
        REQUIRE_FALSE(aml.error);
        Crs pci(aml.buffer(aml.names["\\_SB_.PCI0._CRS"]));
        REQUIRE(pci.ranges.size() == 5);
        CHECK(pci.ranges[4].min == ram);
        CHECK(pci.ranges[4].len == 0xFEC00000u - ram);
    }
    // Small packages use a 1-byte PkgLength, the _PRT (about 1.6 KiB) a 2-byte one; the walker
    // consumed all of them to the exact end above. Check the _PRT's encoding size directly.
    Bytes aml_bytes = build_dsdt_aml(test_config());
    Aml aml(aml_bytes, 0, aml_bytes.size());
    size_t prt = aml.names["\\_SB_.PCI0._PRT"];
    CHECK(aml_bytes[prt] == 0x12);
    CHECK((aml_bytes[prt + 1] >> 6) == 1);
}
