// Small helpers shared by the unit tests: hex formatting for INFO/MESSAGE output (doctest's
// message builder takes values, not stream manipulators).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace vx86::test {

inline std::string hx(uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}

// Appends `v` as a little-endian 32-bit immediate or displacement to guest code.
inline void put32(std::vector<uint8_t>& code, uint32_t v) {
    for (int k = 0; k < 4; ++k) code.push_back(uint8_t(v >> (8 * k)));
}

// "66 67 8b ..." for a byte string.
inline std::string hex_bytes(const uint8_t* p, size_t n) {
    std::string s;
    char buf[4];
    for (size_t i = 0; i < n; ++i) {
        std::snprintf(buf, sizeof buf, i ? " %02x" : "%02x", p[i]);
        s += buf;
    }
    return s;
}

}  // namespace vx86::test
