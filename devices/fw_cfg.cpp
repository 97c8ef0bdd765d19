// FwCfg: the fw_cfg device and the pc machine's items (see fw_cfg.h).
#include "devices/fw_cfg.h"

#include <algorithm>

namespace vx86::devices {

namespace {

constexpr char kDmaSignature[8] = {'Q', 'E', 'M', 'U', ' ', 'C', 'F', 'G'};
constexpr uint16_t kKeyMask = 0xBFFF;  // bit 14 (old write flag) does not pick an item
constexpr size_t kDmaChunk = 64 * 1024;

uint32_t bswap32(uint32_t v) {
    return (v >> 24) | ((v >> 8) & 0xFF00u) | ((v << 8) & 0xFF0000u) | (v << 24);
}

void put_le(std::vector<uint8_t>& v, uint64_t x, unsigned n) {
    for (unsigned i = 0; i < n; ++i) v.push_back(uint8_t(x >> (8 * i)));
}

void put_be(std::vector<uint8_t>& v, uint64_t x, unsigned n) {
    for (unsigned i = n; i-- > 0;) v.push_back(uint8_t(x >> (8 * i)));
}

uint64_t get_be(const uint8_t* p, unsigned n) {
    uint64_t x = 0;
    for (unsigned i = 0; i < n; ++i) x = (x << 8) | p[i];
    return x;
}

}  // namespace

FwCfg::FwCfg(mmu::PhysMemory& mem) : mem_(mem) {
    add_bytes(kFwCfgSignature, {'Q', 'E', 'M', 'U'});
    add_u32(kFwCfgId, 0x3);  // traditional interface + DMA
    rebuild_directory();
}

void FwCfg::attach(IoBus& bus) {
    bus.attach(kFwCfgPortSelector, 2, this, kIoSize8 | kIoSize16);
    bus.attach(kFwCfgPortDma, 8, this, kIoSize8 | kIoSize16 | kIoSize32);
}

void FwCfg::reset() {
    select(kFwCfgSignature);
    dma_high_ = 0;
}

void FwCfg::add_bytes(uint16_t key, std::vector<uint8_t> data) {
    items_[uint16_t(key & kKeyMask)] = std::move(data);
}

void FwCfg::add_u16(uint16_t key, uint16_t v) {
    std::vector<uint8_t> d;
    put_le(d, v, 2);
    add_bytes(key, std::move(d));
}

void FwCfg::add_u32(uint16_t key, uint32_t v) {
    std::vector<uint8_t> d;
    put_le(d, v, 4);
    add_bytes(key, std::move(d));
}

void FwCfg::add_u64(uint16_t key, uint64_t v) {
    std::vector<uint8_t> d;
    put_le(d, v, 8);
    add_bytes(key, std::move(d));
}

void FwCfg::add_file(std::string name, std::vector<uint8_t> data, bool writable) {
    if (name.size() > kFwCfgMaxName - 1) name.resize(kFwCfgMaxName - 1);
    auto it = std::lower_bound(files_.begin(), files_.end(), name,
                               [](const File& f, const std::string& n) { return f.name < n; });
    if (it != files_.end() && it->name == name) {
        it->data = std::move(data);
        it->writable = writable;
    } else {
        files_.insert(it, File{std::move(name), std::move(data), writable});
    }
    rebuild_directory();
}

uint16_t FwCfg::file_selector(std::string_view name) const {
    for (size_t i = 0; i < files_.size(); ++i)
        if (files_[i].name == name) return uint16_t(kFwCfgFileFirst + i);
    return 0;
}

const std::vector<uint8_t>* FwCfg::file_data(std::string_view name) const {
    for (const File& f : files_)
        if (f.name == name) return &f.data;
    return nullptr;
}

void FwCfg::rebuild_directory() {
    std::vector<uint8_t> dir;
    put_be(dir, files_.size(), 4);
    for (size_t i = 0; i < files_.size(); ++i) {
        put_be(dir, files_[i].data.size(), 4);
        put_be(dir, kFwCfgFileFirst + i, 2);
        put_be(dir, 0, 2);
        std::array<uint8_t, kFwCfgMaxName> name{};
        std::copy(files_[i].name.begin(), files_[i].name.end(), name.begin());
        dir.insert(dir.end(), name.begin(), name.end());
    }
    items_[kFwCfgFileDir] = std::move(dir);
}

std::vector<uint8_t>* FwCfg::item(uint16_t key, bool* writable) {
    if (writable) *writable = false;
    key &= kKeyMask;
    if (key >= kFwCfgFileFirst && key < 0x8000 && size_t(key - kFwCfgFileFirst) < files_.size()) {
        File& f = files_[key - kFwCfgFileFirst];
        if (writable) *writable = f.writable;
        return &f.data;
    }
    auto it = items_.find(key);
    return it == items_.end() ? nullptr : &it->second;
}

void FwCfg::select(uint16_t key) {
    selector_ = key;
    offset_ = 0;
}

uint8_t FwCfg::read_byte() {
    const std::vector<uint8_t>* d = item(selector_);
    uint8_t b = (d && offset_ < d->size()) ? (*d)[size_t(offset_)] : 0;
    if (d && offset_ < d->size()) ++offset_;
    return b;
}

uint32_t FwCfg::io_read(uint16_t port, unsigned size) {
    if (port == kFwCfgPortSelector) return 0;  // write only
    if (port == kFwCfgPortData) {
        uint32_t v = 0;  // wider reads return consecutive bytes (string-preserving)
        for (unsigned i = 0; i < size; ++i) v |= uint32_t(read_byte()) << (8 * i);
        return v;
    }
    if (port >= kFwCfgPortDma && port < kFwCfgPortDma + 8) {
        uint32_t v = 0;
        for (unsigned i = 0; i < size && port - kFwCfgPortDma + i < 8; ++i)
            v |= uint32_t(uint8_t(kDmaSignature[port - kFwCfgPortDma + i])) << (8 * i);
        return v;
    }
    return 0xFFFFFFFFu;
}

void FwCfg::io_write(uint16_t port, unsigned size, uint32_t value) {
    if (port == kFwCfgPortSelector) {
        select(uint16_t(size == 1 ? (value & 0xFF) : (value & 0xFFFF)));
        return;
    }
    if (port == kFwCfgPortData) return;  // ignored since QEMU 2.4
    if (size != 4) return;
    if (port == kFwCfgPortDma) {
        dma_high_ = bswap32(value);
    } else if (port == kFwCfgPortDma + 4) {
        uint64_t addr = uint64_t(dma_high_) << 32 | bswap32(value);
        dma_high_ = 0;
        dma(addr);
    }
}

void FwCfg::dma(uint64_t desc_addr) {
    uint8_t desc[16];
    if (desc_addr > 0xFFFFFFFFull || !mem_.copy_from(uint32_t(desc_addr), desc, sizeof desc))
        return;
    uint32_t control = uint32_t(get_be(desc, 4));
    uint32_t length = uint32_t(get_be(desc + 4, 4));
    uint64_t addr = get_be(desc + 8, 8);

    if (control & kFwCfgDmaSelect) select(uint16_t(control >> 16));
    bool error = false;
    bool writable = false;
    std::vector<uint8_t>* d = item(selector_, &writable);
    if (control & kFwCfgDmaRead) {
        std::vector<uint8_t> chunk;
        uint64_t done = 0;
        while (done < length && !error) {
            size_t n = size_t(std::min<uint64_t>(kDmaChunk, length - done));
            chunk.assign(n, 0);
            for (size_t i = 0; i < n; ++i) {
                uint64_t o = offset_ + i;
                if (d && o < d->size()) chunk[i] = (*d)[size_t(o)];
            }
            uint64_t a = addr + done;
            if (a + n > 0x100000000ull || !mem_.copy_to(uint32_t(a), chunk.data(), n))
                error = true;
            else {
                offset_ += n;
                done += n;
            }
        }
    } else if (control & kFwCfgDmaWrite) {
        if (!d || !writable || offset_ > d->size() || length > d->size() - offset_ ||
            addr + length > 0x100000000ull) {
            error = true;
        } else if (length > 0) {
            std::vector<uint8_t> tmp(length);
            if (!mem_.copy_from(uint32_t(addr), tmp.data(), length))
                error = true;
            else {
                std::copy(tmp.begin(), tmp.end(), d->begin() + ptrdiff_t(offset_));
                offset_ += length;
            }
        }
    } else if (control & kFwCfgDmaSkip) {
        offset_ += length;
    }
    uint8_t status[4] = {0, 0, 0, uint8_t(error ? kFwCfgDmaError : 0)};
    mem_.copy_to(uint32_t(desc_addr), status, sizeof status);
}

// ---------------------------------------------------------------------------------------------
// The pc machine's items

std::string pc_boot_path_floppy(unsigned unit) {
    // SeaBIOS bootprio_find_fdc_device: <ISA bridge path>/fdc@%04x/floppy@%x (port 0x3F0).
    return "/pci@i0cf8/isa@1/fdc@03f0/floppy@" + std::to_string(unit);
}

std::string pc_boot_path_ide(unsigned channel, unsigned unit) {
    // SeaBIOS bootprio_find_ata_device: <IDE function path>/drive@%x/disk@%x, the function
    // being 00:01.1 ("ide@1,1"; SeaBIOS matches the name with a wildcard).
    return "/pci@i0cf8/ide@1,1/drive@" + std::to_string(channel) + "/disk@" + std::to_string(unit);
}

namespace {

// One SMBIOS structure: formatted area, then the string set (each string NUL-terminated, the
// set ended by one more NUL; two NULs when there are no strings).
class SmbiosTable {
public:
    void add(std::vector<uint8_t> formatted, const std::vector<std::string>& strings) {
        size_t start = out_.size();
        formatted[1] = uint8_t(formatted.size());
        out_.insert(out_.end(), formatted.begin(), formatted.end());
        bool any = false;
        for (const std::string& s : strings) {
            if (s.empty()) continue;
            out_.insert(out_.end(), s.begin(), s.end());
            out_.push_back(0);
            any = true;
        }
        if (!any) out_.push_back(0);
        out_.push_back(0);
        ++count_;
        max_ = std::max<size_t>(max_, out_.size() - start);
    }
    std::vector<uint8_t> out_;
    uint16_t count_ = 0;
    size_t max_ = 0;
};

// String number for the n-th non-empty string of `strs` that `s` is, 0 when `s` is empty.
uint8_t str_index(const std::vector<std::string>& strs, size_t i) {
    if (strs[i].empty()) return 0;
    uint8_t n = 0;
    for (size_t k = 0; k <= i; ++k)
        if (!strs[k].empty()) ++n;
    return n;
}

std::vector<uint8_t> header(uint8_t type, uint16_t handle) {
    std::vector<uint8_t> v{type, 0};
    put_le(v, handle, 2);
    return v;
}

}  // namespace

uint8_t checksum_fix(const uint8_t* p, size_t n) {
    uint8_t s = 0;
    for (size_t i = 0; i < n; ++i) s = uint8_t(s + p[i]);
    return uint8_t(-s);
}

void set_smbios_table_address(std::vector<uint8_t>& anchor, uint32_t addr) {
    for (unsigned i = 0; i < 4; ++i) anchor[0x18 + i] = uint8_t(addr >> (8 * i));
    anchor[0x15] = 0;
    anchor[0x15] = checksum_fix(anchor.data() + 0x10, 0x0F);  // the "_DMI_" part
    anchor[0x04] = 0;
    anchor[0x04] = checksum_fix(anchor.data(), 0x1F);
}

void build_pc_smbios(const PcFwCfg& cfg, std::vector<uint8_t>& tables,
                     std::vector<uint8_t>& anchor) {
    SmbiosTable t;
    uint64_t ram_kb = cfg.ram_bytes / 1024;
    uint64_t ram_mb = cfg.ram_bytes >> 20;

    {  // Type 1: System Information (2.4 layout, 0x1B bytes).
        std::vector<std::string> s{cfg.smbios_manufacturer, cfg.smbios_product, cfg.smbios_version};
        auto v = header(1, 0x0100);
        v.push_back(str_index(s, 0));  // manufacturer
        v.push_back(str_index(s, 1));  // product name
        v.push_back(str_index(s, 2));  // version
        v.push_back(0);                // serial number
        v.insert(v.end(), cfg.uuid.begin(), cfg.uuid.end());
        v.push_back(0x06);  // wake-up type: power switch
        v.push_back(0);     // SKU number
        v.push_back(0);     // family
        t.add(std::move(v), s);
    }
    {  // Type 3: System Enclosure (2.3 layout without contained elements, 0x15 bytes).
        std::vector<std::string> s{cfg.smbios_manufacturer};
        auto v = header(3, 0x0300);
        v.push_back(str_index(s, 0));
        v.push_back(0x01);  // type: other
        v.push_back(0);     // version
        v.push_back(0);     // serial
        v.push_back(0);     // asset tag
        v.push_back(0x03);  // boot-up state: safe
        v.push_back(0x03);  // power supply state: safe
        v.push_back(0x03);  // thermal state: safe
        v.push_back(0x02);  // security status: unknown
        put_le(v, 0, 4);    // OEM defined
        v.push_back(0);     // height
        v.push_back(0);     // power cords
        v.push_back(0);     // contained element count
        v.push_back(0);     // contained element record length
        t.add(std::move(v), s);
    }
    for (unsigned i = 0; i < cfg.cpus; ++i) {  // Type 4: Processor (2.3 layout, 0x23 bytes).
        std::vector<std::string> s{"CPU " + std::to_string(i), cfg.smbios_manufacturer};
        auto v = header(4, uint16_t(0x0400 + i));
        v.push_back(str_index(s, 0));       // socket designation
        v.push_back(0x03);                  // processor type: central processor
        v.push_back(0x01);                  // family: other
        v.push_back(str_index(s, 1));       // manufacturer
        put_le(v, cfg.cpuid_signature, 4);  // processor ID: CPUID.1 EAX, EDX
        put_le(v, cfg.cpuid_features, 4);
        v.push_back(0);             // version
        v.push_back(0);             // voltage
        put_le(v, 0, 2);            // external clock: unknown
        put_le(v, cfg.cpu_mhz, 2);  // max speed
        put_le(v, cfg.cpu_mhz, 2);  // current speed
        v.push_back(0x41);          // status: socket populated, CPU enabled
        v.push_back(0x01);          // upgrade: other
        put_le(v, 0xFFFF, 2);       // L1/L2/L3 cache handles: none
        put_le(v, 0xFFFF, 2);
        put_le(v, 0xFFFF, 2);
        v.push_back(0);  // serial
        v.push_back(0);  // asset tag
        v.push_back(0);  // part number
        t.add(std::move(v), s);
    }
    {  // Type 16: Physical Memory Array (0x0F bytes).
        auto v = header(16, 0x1000);
        v.push_back(0x03);     // location: system board
        v.push_back(0x03);     // use: system memory
        v.push_back(0x03);     // error correction: none
        put_le(v, ram_kb, 4);  // maximum capacity (KiB)
        put_le(v, 0xFFFE, 2);  // memory error information: not provided
        put_le(v, 1, 2);       // number of memory devices
        t.add(std::move(v), {});
    }
    {  // Type 17: Memory Device (2.3 layout, 0x1B bytes).
        std::vector<std::string> s{"DIMM 0"};
        auto v = header(17, 0x1100);
        put_le(v, 0x1000, 2);                             // physical memory array handle
        put_le(v, 0xFFFE, 2);                             // memory error information: not provided
        put_le(v, 0xFFFF, 2);                             // total width: unknown
        put_le(v, 0xFFFF, 2);                             // data width: unknown
        put_le(v, ram_mb < 0x7FFF ? ram_mb : 0x7FFF, 2);  // size (MiB)
        v.push_back(0x09);                                // form factor: DIMM
        v.push_back(0);                                   // device set: none
        v.push_back(str_index(s, 0));                     // device locator
        v.push_back(0);                                   // bank locator
        v.push_back(0x07);                                // memory type: RAM
        put_le(v, 0x0002, 2);                             // type detail: unknown
        put_le(v, 0, 2);                                  // speed: unknown
        v.push_back(0);                                   // manufacturer
        v.push_back(0);                                   // serial
        v.push_back(0);                                   // asset tag
        v.push_back(0);                                   // part number
        t.add(std::move(v), s);
    }
    {  // Type 19: Memory Array Mapped Address (0x0F bytes).
        auto v = header(19, 0x1300);
        put_le(v, 0, 4);                        // starting address (KiB)
        put_le(v, ram_kb ? ram_kb - 1 : 0, 4);  // ending address (KiB, inclusive)
        put_le(v, 0x1000, 2);                   // memory array handle
        v.push_back(1);                         // partition width
        t.add(std::move(v), {});
    }
    {  // Type 32: System Boot Information (0x0B bytes).
        auto v = header(32, 0x2000);
        put_le(v, 0, 6);  // reserved
        v.push_back(0);   // boot status: no errors detected
        t.add(std::move(v), {});
    }
    t.add(header(127, 0x7F00), {});  // End-of-Table

    tables = t.out_;
    // The SMBIOS 2.1+ 32-bit entry point (31 bytes); SeaBIOS fills in the table address.
    anchor.clear();
    anchor.insert(anchor.end(), {'_', 'S', 'M', '_'});
    anchor.push_back(0);     // checksum
    anchor.push_back(0x1F);  // entry point length
    anchor.push_back(2);     // SMBIOS 2.4
    anchor.push_back(4);
    put_le(anchor, t.max_, 2);  // maximum structure size
    anchor.push_back(0);        // entry point revision
    put_le(anchor, 0, 5);       // formatted area
    anchor.insert(anchor.end(), {'_', 'D', 'M', 'I', '_'});
    anchor.push_back(0);               // intermediate checksum
    put_le(anchor, tables.size(), 2);  // structure table length
    put_le(anchor, 0, 4);              // structure table address
    put_le(anchor, t.count_, 2);       // number of structures
    anchor.push_back(0x24);            // BCD revision
    anchor[0x15] = checksum_fix(anchor.data() + 0x10, 0x0F);
    anchor[0x04] = checksum_fix(anchor.data(), 0x1F);
}

void fill_pc_fw_cfg(FwCfg& fw, const PcFwCfg& cfg) {
    fw.add_u64(kFwCfgRamSize, cfg.ram_bytes);
    fw.add_u16(kFwCfgNbCpus, cfg.cpus);
    fw.add_u16(kFwCfgMaxCpus, std::max(cfg.cpus, cfg.max_cpus));
    fw.add_u64(kFwCfgNuma, 0);  // no NUMA nodes
    fw.add_u16(kFwCfgBootMenu, cfg.boot_menu ? 1 : 0);
    fw.add_bytes(kFwCfgUuid, std::vector<uint8_t>(cfg.uuid.begin(), cfg.uuid.end()));

    // etc/e820 as QEMU writes it: the RAM below 4 GiB as one entry (the BIOS reserves its own
    // areas: EBDA, 0xA0000-0xFFFFF, its high copy). Entries {le64 addr; le64 len; le32 type}.
    std::vector<uint8_t> e820;
    put_le(e820, 0, 8);
    put_le(e820, cfg.ram_bytes, 8);
    put_le(e820, 1, 4);  // E820_RAM
    fw.add_file("etc/e820", std::move(e820));

    // A boot ROM from fw_cfg (direct Linux boot) comes first, as QEMU gives it bootindex 0.
    std::string order = cfg.boot_rom.empty() ? std::string() : "/rom@" + cfg.boot_rom;
    for (char c : cfg.boot_order) {
        std::string p;
        if (c == 'a')
            p = pc_boot_path_floppy(0);
        else if (c == 'c')
            p = pc_boot_path_ide(cfg.hd_channel, cfg.hd_unit);
        else if (c == 'd')
            p = pc_boot_path_ide(cfg.cd_channel, cfg.cd_unit);
        if (p.empty() || order.find(p) != std::string::npos) continue;
        if (!order.empty()) order += '\n';
        order += p;
    }
    if (!order.empty()) {
        std::vector<uint8_t> b(order.begin(), order.end());
        b.push_back(0);
        fw.add_file("bootorder", std::move(b));
    }
    std::vector<uint8_t> wait;
    put_le(wait, cfg.boot_fail_wait_ms, 4);
    fw.add_file("etc/boot-fail-wait", std::move(wait));

    std::vector<uint8_t> tables, anchor;
    build_pc_smbios(cfg, tables, anchor);
    fw.add_file("etc/smbios/smbios-tables", std::move(tables));
    fw.add_file("etc/smbios/smbios-anchor", std::move(anchor));
}

}  // namespace vx86::devices
