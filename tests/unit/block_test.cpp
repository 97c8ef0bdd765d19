// devices::BlockDevice: range checks, write-through to the file, the -snapshot overlay, and the
// errors a bad image gives.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "devices/block.h"

using vx86::devices::BlockDevice;

namespace {

// A temporary file holding `data`, removed when the object goes.
struct TempImage {
    std::string path;
    explicit TempImage(const std::vector<uint8_t>& data) {
        char tmpl[] = "/tmp/vx86-block-XXXXXX";
        int fd = mkstemp(tmpl);
        REQUIRE(fd >= 0);
        REQUIRE(::write(fd, data.data(), data.size()) == ssize_t(data.size()));
        ::close(fd);
        path = tmpl;
    }
    ~TempImage() { std::remove(path.c_str()); }
    std::vector<uint8_t> contents() const {
        std::ifstream f(path, std::ios::binary);
        return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
    }
};

std::vector<uint8_t> pattern(size_t n) {
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = uint8_t(i * 7 + (i >> 9));
    return v;
}

}  // namespace

TEST_CASE("block: reads and writes go to the file, within its size only") {
    TempImage img(pattern(8 * 512));
    auto d = BlockDevice::open(img.path, BlockDevice::Mode::kReadWrite);
    CHECK(d->size() == 8 * 512);
    std::vector<uint8_t> buf(1024);
    REQUIRE(d->read(512, buf.data(), buf.size()));
    const auto want = pattern(8 * 512);
    CHECK(buf == std::vector<uint8_t>(want.begin() + 512, want.begin() + 1536));
    // Past the end: refused as a whole, nothing transferred.
    std::vector<uint8_t> junk(1024, 0xEE);
    CHECK_FALSE(d->read(7 * 512, junk.data(), 1024));
    CHECK(junk[0] == 0xEE);
    CHECK_FALSE(d->write(7 * 512 + 1, junk.data(), 512));
    CHECK_FALSE(d->read(UINT64_MAX - 10, junk.data(), 512));  // no wrap-around
    // A write reaches the file; flush makes it durable and clears dirty().
    std::vector<uint8_t> w(512, 0x5A);
    CHECK_FALSE(d->dirty());
    REQUIRE(d->write(3 * 512, w.data(), w.size()));
    CHECK(d->dirty());
    CHECK(d->flush());
    CHECK_FALSE(d->dirty());
    auto file = img.contents();
    CHECK(file[3 * 512] == 0x5A);
    CHECK(file[4 * 512 - 1] == 0x5A);
    CHECK(file[4 * 512] == pattern(8 * 512)[4 * 512]);
}

TEST_CASE("block: snapshot mode keeps writes in memory and the file untouched") {
    const auto original = pattern(16 * 512);
    TempImage img(original);
    auto d = BlockDevice::open(img.path, BlockDevice::Mode::kSnapshot);
    std::vector<uint8_t> w(700, 0xA5);  // crosses a 4 KiB overlay chunk boundary
    REQUIRE(d->write(4096 - 300, w.data(), w.size()));
    std::vector<uint8_t> r(1200);
    REQUIRE(d->read(4096 - 400, r.data(), r.size()));
    CHECK(r[0] == original[4096 - 400]);
    CHECK(r[99] == original[4096 - 301]);
    CHECK(r[100] == 0xA5);
    CHECK(r[799] == 0xA5);
    CHECK(r[800] == original[4096 + 400]);
    CHECK(d->flush());
    CHECK(img.contents() == original);
}

TEST_CASE("block: read-only media refuse writes") {
    TempImage img(pattern(2048 * 4));
    auto d = BlockDevice::open(img.path, BlockDevice::Mode::kReadOnly, 2048);
    CHECK(d->read_only());
    std::vector<uint8_t> w(2048, 1);
    CHECK_FALSE(d->write(0, w.data(), w.size()));
    CHECK(img.contents() == pattern(2048 * 4));
}

TEST_CASE("block: bad images are refused with a clear reason") {
    CHECK_THROWS_WITH_AS(BlockDevice::open("/nonexistent/x.img", BlockDevice::Mode::kReadWrite),
                         doctest::Contains("No such file or directory"), std::runtime_error);
    TempImage empty(std::vector<uint8_t>{});
    CHECK_THROWS_WITH_AS(BlockDevice::open(empty.path, BlockDevice::Mode::kReadWrite),
                         doctest::Contains("the image is empty"), std::runtime_error);
    TempImage odd(pattern(1000));
    CHECK_THROWS_WITH_AS(BlockDevice::open(odd.path, BlockDevice::Mode::kReadWrite),
                         doctest::Contains("not a multiple of 512-byte sectors"), std::runtime_error);
    TempImage cd(pattern(4096 + 512));
    CHECK_THROWS_WITH_AS(BlockDevice::open(cd.path, BlockDevice::Mode::kReadOnly, 2048),
                         doctest::Contains("2048-byte sectors"), std::runtime_error);
    CHECK_THROWS_AS(BlockDevice::open("/tmp", BlockDevice::Mode::kReadOnly), std::runtime_error);
}
