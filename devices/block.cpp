#include "devices/block.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace vx86::devices {

namespace {

// pread/pwrite of exactly `n` bytes (short transfers resumed, EINTR retried); false on an error
// or an early end of file.
bool read_all(int fd, uint8_t* out, size_t n, uint64_t off) {
    for (size_t done = 0; done < n;) {
        ssize_t r = ::pread(fd, out + done, n - done, off_t(off + done));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        done += size_t(r);
    }
    return true;
}

bool write_all(int fd, const uint8_t* in, size_t n, uint64_t off) {
    for (size_t done = 0; done < n;) {
        ssize_t r = ::pwrite(fd, in + done, n - done, off_t(off + done));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        done += size_t(r);
    }
    return true;
}

}  // namespace

std::unique_ptr<BlockDevice> BlockDevice::open(const std::string& path, Mode mode,
                                               uint32_t sector) {
    auto fail = [&](const std::string& why) {
        return std::runtime_error("disk image '" + path + "': " + why);
    };
    int flags = (mode == Mode::kReadWrite) ? O_RDWR : O_RDONLY;
    int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    if (fd < 0) throw fail(std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        int e = errno;
        ::close(fd);
        throw fail(std::strerror(e));
    }
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
        ::close(fd);
        throw fail("not a regular file");
    }
    uint64_t size = uint64_t(st.st_size);
    if (S_ISBLK(st.st_mode)) {
        off_t end = ::lseek(fd, 0, SEEK_END);
        size = end > 0 ? uint64_t(end) : 0;
    }
    if (size == 0) {
        ::close(fd);
        throw fail("the image is empty");
    }
    if (sector && size % sector != 0) {
        ::close(fd);
        throw fail("size " + std::to_string(size) + " is not a multiple of " +
                   std::to_string(sector) + "-byte sectors (truncated image?)");
    }
    std::unique_ptr<BlockDevice> d(new BlockDevice());
    d->path_ = path;
    d->mode_ = mode;
    d->fd_ = fd;
    d->size_ = size;
    return d;
}

std::unique_ptr<BlockDevice> BlockDevice::from_memory(std::vector<uint8_t> data, bool read_only) {
    std::unique_ptr<BlockDevice> d(new BlockDevice());
    d->path_ = "(memory)";
    d->mode_ = read_only ? Mode::kReadOnly : Mode::kReadWrite;
    d->size_ = data.size();
    d->mem_ = std::move(data);
    d->in_memory_ = true;
    return d;
}

BlockDevice::~BlockDevice() {
    if (fd_ >= 0) {
        if (dirty_) ::fsync(fd_);
        ::close(fd_);
    }
}

bool BlockDevice::chunk_read(uint64_t chunk, uint8_t* out) {
    uint64_t off = chunk * kChunk;
    size_t n = size_t(std::min<uint64_t>(kChunk, size_ - off));
    std::memset(out, 0, kChunk);
    if (in_memory_) {
        std::memcpy(out, mem_.data() + off, n);
        return true;
    }
    return read_all(fd_, out, n, off);
}

bool BlockDevice::read(uint64_t offset, void* buf, size_t len) {
    if (offset > size_ || len > size_ - offset) return false;
    uint8_t* out = static_cast<uint8_t*>(buf);
    if (overlay_.empty()) {
        if (in_memory_) {
            std::memcpy(out, mem_.data() + offset, len);
            return true;
        }
        return read_all(fd_, out, len, offset);
    }
    // Snapshot overlay: chunk by chunk.
    uint8_t tmp[kChunk];
    while (len) {
        uint64_t chunk = offset / kChunk;
        size_t in = size_t(offset % kChunk);
        size_t n = std::min(len, size_t(kChunk) - in);
        auto it = overlay_.find(chunk);
        if (it != overlay_.end()) {
            std::memcpy(out, it->second.data() + in, n);
        } else {
            if (!chunk_read(chunk, tmp)) return false;
            std::memcpy(out, tmp + in, n);
        }
        out += n;
        offset += n;
        len -= n;
    }
    return true;
}

bool BlockDevice::write(uint64_t offset, const void* buf, size_t len) {
    if (mode_ == Mode::kReadOnly) return false;
    if (offset > size_ || len > size_ - offset) return false;
    const uint8_t* in = static_cast<const uint8_t*>(buf);
    if (mode_ == Mode::kSnapshot) {
        while (len) {
            uint64_t chunk = offset / kChunk;
            size_t at = size_t(offset % kChunk);
            size_t n = std::min(len, size_t(kChunk) - at);
            auto it = overlay_.find(chunk);
            if (it == overlay_.end()) {
                std::vector<uint8_t> data(kChunk);
                if (!chunk_read(chunk, data.data())) return false;
                it = overlay_.emplace(chunk, std::move(data)).first;
            }
            std::memcpy(it->second.data() + at, in, n);
            in += n;
            offset += n;
            len -= n;
        }
        return true;
    }
    if (in_memory_) {
        std::memcpy(mem_.data() + offset, in, len);
        return true;
    }
    if (!write_all(fd_, in, len, offset)) return false;
    dirty_ = true;
    return true;
}

bool BlockDevice::flush() {
    if (fd_ < 0 || !dirty_) return true;
    if (::fsync(fd_) != 0) return false;
    dirty_ = false;
    return true;
}

}  // namespace vx86::devices
