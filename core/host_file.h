// Reading whole host files (firmware images, kernels, initrds) into memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace vx86::core {

// Reads `path`, but at most `cap` + 1 bytes: a result longer than `cap` tells the caller the
// file is too large without reading a huge file whole. Throws std::runtime_error
// "cannot read WHAT 'PATH': REASON" when the file cannot be opened or read.
std::vector<uint8_t> read_host_file(const std::string& path, const char* what, size_t cap);

}  // namespace vx86::core
