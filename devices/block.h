// BlockDevice: a disk image behind a floppy, hard disk or CD-ROM.
//
// Design decisions:
// - Byte-addressed reads and writes of whole sectors at the caller's choice (512 for disks and
//   floppies, 2048 for CDs): the controller, not the image, knows the geometry.
// - Every request is range-checked against the image size: a request that runs past the end
//   fails as a whole (returns false, nothing transferred), and the controller turns that into
//   its architected error status. A guest can never make us read or write outside the image.
// - Writes go to the file with pwrite as they happen (the host page cache holds them), and
//   flush() fsyncs. The machine calls flush() at exit and on SIGINT/SIGTERM, so guest writes are
//   never lost; a controller's FLUSH CACHE command calls it too.
// - Snapshot mode (-snapshot): writes go to an in-memory overlay of 4 KiB chunks and reads
//   consult it first, so the image file is never modified. Read-only media (CDs, or images the
//   user marks read-only) refuse writes; the controller reports write protection.
// - open() throws std::runtime_error with a one-line reason (missing file, empty file, a size
//   that is not a multiple of the sector size) for the frontend to print.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace vx86::devices {

class BlockDevice {
public:
    enum class Mode : uint8_t { kReadWrite, kReadOnly, kSnapshot };

    // Opens `path`. `sector` is the unit the size must be a multiple of (512 or 2048).
    static std::unique_ptr<BlockDevice> open(const std::string& path, Mode mode,
                                             uint32_t sector = 512);
    // An image held in memory (tests, generated media). Writes change `data` unless read-only.
    static std::unique_ptr<BlockDevice> from_memory(std::vector<uint8_t> data, bool read_only = false);

    ~BlockDevice();
    BlockDevice(const BlockDevice&) = delete;
    BlockDevice& operator=(const BlockDevice&) = delete;

    uint64_t size() const { return size_; }
    bool read_only() const { return mode_ == Mode::kReadOnly; }
    const std::string& path() const { return path_; }

    // Reads/writes [offset, offset+len). False (and nothing done) when out of range, on a
    // write to read-only media, or on a host I/O error.
    bool read(uint64_t offset, void* buf, size_t len);
    bool write(uint64_t offset, const void* buf, size_t len);
    // Makes every write so far durable (fsync). No-op for memory images and snapshot mode.
    bool flush();
    // True when writes happened since the last flush().
    bool dirty() const { return dirty_; }

private:
    BlockDevice() = default;
    static constexpr uint32_t kChunk = 4096;
    bool chunk_read(uint64_t chunk, uint8_t* out);  // base image data of one chunk

    std::string path_;
    Mode mode_ = Mode::kReadWrite;
    int fd_ = -1;
    uint64_t size_ = 0;
    bool dirty_ = false;
    std::vector<uint8_t> mem_;  // memory images
    bool in_memory_ = false;
    std::unordered_map<uint64_t, std::vector<uint8_t>> overlay_;  // snapshot mode
};

}  // namespace vx86::devices
