// Recursive-descent JSON reader (see json.h for the design notes).
//
// One Parser object per document walks a string_view with an index; each parse_* function
// consumes exactly one grammar element and reports the first error it meets. Skipped values
// (skip_keys) go through the same functions with a null destination, so skipping can never
// accept anything the full parser would reject.
#include "tests/conformance/json.h"

#include <cmath>
#include <cstdlib>

namespace vx86::conformance {

const JsonValue* JsonValue::find(std::string_view key) const {
    if (kind != Kind::kObject) return nullptr;
    for (size_t i = 0; i < keys.size(); ++i)
        if (keys[i] == key) return &items[i];
    return nullptr;
}

namespace {

constexpr int kMaxDepth = 64;

class Parser {
public:
    Parser(std::string_view text, std::initializer_list<std::string_view> skip)
        : t_(text), skip_(skip) {}

    bool parse(JsonValue& out, std::string& error) {
        skip_ws();
        bool ok = value(&out, 0);
        if (ok) {
            skip_ws();
            if (p_ != t_.size()) ok = fail("trailing characters after the document");
        }
        if (!ok) error = error_;
        return ok;
    }

private:
    bool fail(const char* what) {
        if (error_.empty()) error_ = std::string(what) + " at byte " + std::to_string(p_);
        return false;
    }
    void skip_ws() {
        while (p_ < t_.size() && (t_[p_] == ' ' || t_[p_] == '\n' || t_[p_] == '\r' || t_[p_] == '\t'))
            ++p_;
    }
    bool literal(std::string_view word) {
        if (t_.substr(p_, word.size()) != word) return fail("invalid literal");
        p_ += word.size();
        return true;
    }

    // `out` may be null: validate and discard.
    bool value(JsonValue* out, int depth) {
        if (depth > kMaxDepth) return fail("nesting too deep");
        if (p_ >= t_.size()) return fail("unexpected end of input");
        char c = t_[p_];
        if (out) *out = JsonValue{};
        switch (c) {
            case '{': return object(out, depth);
            case '[': return array(out, depth);
            case '"': {
                std::string s;
                if (!string(out ? &s : nullptr)) return false;
                if (out) {
                    out->kind = JsonValue::Kind::kString;
                    out->str = std::move(s);
                }
                return true;
            }
            case 't':
            case 'f': {
                bool v = c == 't';
                if (!literal(v ? "true" : "false")) return false;
                if (out) {
                    out->kind = JsonValue::Kind::kBool;
                    out->num = v;
                }
                return true;
            }
            case 'n': return literal("null");
            default: return number(out);
        }
    }

    bool object(JsonValue* out, int depth) {
        ++p_;  // '{'
        if (out) out->kind = JsonValue::Kind::kObject;
        skip_ws();
        if (p_ < t_.size() && t_[p_] == '}') {
            ++p_;
            return true;
        }
        std::string key;
        for (;;) {
            skip_ws();
            if (p_ >= t_.size() || t_[p_] != '"') return fail("expected a key string");
            key.clear();
            if (!string(&key)) return false;
            skip_ws();
            if (p_ >= t_.size() || t_[p_] != ':') return fail("expected ':'");
            ++p_;
            skip_ws();
            bool keep = out != nullptr;
            for (std::string_view s : skip_)
                if (key == s) keep = false;
            if (keep) {
                out->keys.push_back(key);
                out->items.emplace_back();
                if (!value(&out->items.back(), depth + 1)) return false;
            } else if (!value(nullptr, depth + 1)) {
                return false;
            }
            skip_ws();
            if (p_ >= t_.size()) return fail("unterminated object");
            if (t_[p_] == ',') { ++p_; continue; }
            if (t_[p_] == '}') { ++p_; return true; }
            return fail("expected ',' or '}'");
        }
    }

    bool array(JsonValue* out, int depth) {
        ++p_;  // '['
        if (out) out->kind = JsonValue::Kind::kArray;
        skip_ws();
        if (p_ < t_.size() && t_[p_] == ']') {
            ++p_;
            return true;
        }
        for (;;) {
            skip_ws();
            if (out) {
                out->items.emplace_back();
                if (!value(&out->items.back(), depth + 1)) return false;
            } else if (!value(nullptr, depth + 1)) {
                return false;
            }
            skip_ws();
            if (p_ >= t_.size()) return fail("unterminated array");
            if (t_[p_] == ',') { ++p_; continue; }
            if (t_[p_] == ']') { ++p_; return true; }
            return fail("expected ',' or ']'");
        }
    }

    static int hex_digit(char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }
    bool hex4(uint32_t& v) {
        if (p_ + 4 > t_.size()) return fail("short \\u escape");
        v = 0;
        for (int k = 0; k < 4; ++k) {
            int d = hex_digit(t_[p_++]);
            if (d < 0) return fail("bad \\u escape");
            v = v << 4 | uint32_t(d);
        }
        return true;
    }
    static void put_utf8(std::string& s, uint32_t cp) {
        if (cp < 0x80) {
            s += char(cp);
        } else if (cp < 0x800) {
            s += char(0xC0 | cp >> 6);
            s += char(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            s += char(0xE0 | cp >> 12);
            s += char(0x80 | ((cp >> 6) & 0x3F));
            s += char(0x80 | (cp & 0x3F));
        } else {
            s += char(0xF0 | cp >> 18);
            s += char(0x80 | ((cp >> 12) & 0x3F));
            s += char(0x80 | ((cp >> 6) & 0x3F));
            s += char(0x80 | (cp & 0x3F));
        }
    }

    bool string(std::string* out) {
        ++p_;  // opening quote
        for (;;) {
            size_t run = p_;
            while (p_ < t_.size() && t_[p_] != '"' && t_[p_] != '\\' && uint8_t(t_[p_]) >= 0x20) ++p_;
            if (out) out->append(t_.data() + run, p_ - run);
            if (p_ >= t_.size()) return fail("unterminated string");
            char c = t_[p_++];
            if (c == '"') return true;
            if (c != '\\') return fail("control character in string");
            if (p_ >= t_.size()) return fail("unterminated escape");
            char e = t_[p_++];
            char lit = 0;
            switch (e) {
                case '"': lit = '"'; break;
                case '\\': lit = '\\'; break;
                case '/': lit = '/'; break;
                case 'b': lit = '\b'; break;
                case 'f': lit = '\f'; break;
                case 'n': lit = '\n'; break;
                case 'r': lit = '\r'; break;
                case 't': lit = '\t'; break;
                case 'u': {
                    uint32_t cp = 0;
                    if (!hex4(cp)) return false;
                    if (cp >= 0xD800 && cp < 0xDC00 && t_.substr(p_, 2) == "\\u") {
                        p_ += 2;
                        uint32_t lo = 0;
                        if (!hex4(lo)) return false;
                        if (lo >= 0xDC00 && lo < 0xE000) cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        else return fail("bad surrogate pair");
                    }
                    if (out) put_utf8(*out, cp);
                    continue;
                }
                default: return fail("unknown escape");
            }
            if (out) *out += lit;
        }
    }

    bool number(JsonValue* out) {
        size_t start = p_;
        bool neg = false;
        if (t_[p_] == '-') { neg = true; ++p_; }
        if (p_ >= t_.size() || t_[p_] < '0' || t_[p_] > '9') return fail("unexpected character");
        uint64_t mag = 0;
        bool overflow = false;
        while (p_ < t_.size() && t_[p_] >= '0' && t_[p_] <= '9') {
            uint64_t d = uint64_t(t_[p_++] - '0');
            if (mag > (UINT64_MAX - d) / 10) overflow = true;
            else mag = mag * 10 + d;
        }
        bool real = false;
        if (p_ < t_.size() && t_[p_] == '.') {
            real = true;
            ++p_;
            if (p_ >= t_.size() || t_[p_] < '0' || t_[p_] > '9') return fail("bad fraction");
            while (p_ < t_.size() && t_[p_] >= '0' && t_[p_] <= '9') ++p_;
        }
        if (p_ < t_.size() && (t_[p_] == 'e' || t_[p_] == 'E')) {
            real = true;
            ++p_;
            if (p_ < t_.size() && (t_[p_] == '+' || t_[p_] == '-')) ++p_;
            if (p_ >= t_.size() || t_[p_] < '0' || t_[p_] > '9') return fail("bad exponent");
            while (p_ < t_.size() && t_[p_] >= '0' && t_[p_] <= '9') ++p_;
        }
        if (!out) return true;
        out->kind = JsonValue::Kind::kInt;
        if (real || overflow || mag > uint64_t(INT64_MAX)) {
            std::string copy(t_.substr(start, p_ - start));
            double d = std::strtod(copy.c_str(), nullptr);
            if (!std::isfinite(d) || std::fabs(d) >= 9.2e18) return fail("number out of range");
            out->num = int64_t(d);
        } else {
            out->num = neg ? -int64_t(mag) : int64_t(mag);
        }
        return true;
    }

    std::string_view t_;
    std::initializer_list<std::string_view> skip_;
    size_t p_ = 0;
    std::string error_;
};

}  // namespace

bool parse_json(std::string_view text, JsonValue& out, std::string& error,
                std::initializer_list<std::string_view> skip_keys) {
    Parser p(text, skip_keys);
    return p.parse(out, error);
}

}  // namespace vx86::conformance
