#include "core/host_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace vx86::core {

std::vector<uint8_t> read_host_file(const std::string& path, const char* what, size_t cap) {
    auto fail = [&](int err) {
        return std::runtime_error(std::string("cannot read ") + what + " '" + path +
                                  "': " + std::strerror(err));
    };
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) throw fail(errno);
    std::vector<uint8_t> data;
    uint8_t chunk[64 * 1024];
    size_t n;
    while (data.size() <= cap && (n = std::fread(chunk, 1, sizeof chunk, f)) > 0)
        data.insert(data.end(), chunk, chunk + n);
    int err = std::ferror(f) ? errno : 0;
    std::fclose(f);
    if (err) throw fail(err);
    if (data.size() > cap + 1) data.resize(cap + 1);
    return data;
}

}  // namespace vx86::core
