// A small JSON reader for the conformance vectors and their metadata.
//
// Design decisions:
// - A plain DOM: every value is a JsonValue holding its kind plus whichever of number, string,
//   or children applies. Objects keep keys and values in two parallel vectors in document order
//   and are searched linearly: the objects here have at most ~260 keys (metadata) and usually
//   fewer than 20, where a scan beats a hash map and keeps the type trivial to move.
// - Numbers are int64 (the vectors hold only integers). A fraction or exponent is accepted and
//   truncated toward zero so a stray float never makes a whole file unreadable.
// - Values under keys listed in `skip_keys` are checked for well-formedness but not stored: the
//   bus-cycle traces are most of each vector file and the runner never looks at them, so
//   skipping them roughly halves parse time and memory.
// - Errors are returned, never thrown: parse() gives false with a message naming the byte
//   offset. Nesting is capped so hostile input cannot exhaust the stack.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace vx86::conformance {

class JsonValue {
public:
    enum class Kind : uint8_t { kNull, kBool, kInt, kString, kArray, kObject };

    Kind kind = Kind::kNull;
    int64_t num = 0;  // kInt value, or 0/1 for kBool
    std::string str;  // kString
    std::vector<JsonValue> items;  // kArray elements, or kObject values
    std::vector<std::string> keys;  // kObject keys, parallel to `items`

    bool is_int() const { return kind == Kind::kInt; }
    bool is_array() const { return kind == Kind::kArray; }
    bool is_object() const { return kind == Kind::kObject; }
    bool is_string() const { return kind == Kind::kString; }
    size_t size() const { return items.size(); }
    const JsonValue& operator[](size_t i) const { return items[i]; }
    // Member of an object by key, or nullptr (also for non-objects).
    const JsonValue* find(std::string_view key) const;
};

// Parses `text` (one JSON document, optional surrounding whitespace) into `out`. On failure
// returns false and sets `error`.
bool parse_json(std::string_view text, JsonValue& out, std::string& error,
                std::initializer_list<std::string_view> skip_keys = {});

}  // namespace vx86::conformance
