// vx86-unit: the doctest runner for every unit test in tests/unit.
//
// Each *_test.cpp file holds the TEST_CASEs for one component (lazy flags, physical memory,
// the I/O bus, the decoder and its Capstone oracle); this file only supplies doctest's main so
// that all of them link into one executable, registered with meson as the 'unit' test.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
