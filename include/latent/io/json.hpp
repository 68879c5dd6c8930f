// A small strict JSON reader and writer (RFC 8259) for file headers
// (safetensors) and metrics output. Numbers go through std::to_chars /
// std::from_chars, so neither direction depends on the locale.
//
// The reader accepts exactly JSON: no comments, no trailing commas, no
// NaN, no duplicate object keys, valid UTF-8, nesting at most 64 deep. Every
// failure throws FormatError naming `what` and the byte offset.
#pragma once

#include "latent/core/abi.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "latent/core/error.hpp"

LATENT_NAMESPACE_BEGIN
namespace detail {

// "..." with JSON escapes (control characters as \u00XX).
inline std::string json_quote(std::string_view s) {
    std::string o;
    o.reserve(s.size() + 2);
    o += '"';
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"': o += "\\\""; break;
            case '\\': o += "\\\\"; break;
            case '\n': o += "\\n"; break;
            case '\r': o += "\\r"; break;
            case '\t': o += "\\t"; break;
            default:
                if (c < 0x20) {
                    static const char hex[] = "0123456789abcdef";
                    o += "\\u00";
                    o += hex[c >> 4];
                    o += hex[c & 15];
                } else {
                    o += ch;
                }
        }
    }
    o += '"';
    return o;
}

// A number as JSON text: the shortest form that reads back to the same
// double (precision 0), or `precision` significant digits (like %.*g).
// Non-finite values have no JSON form: they are written as null.
inline std::string json_number(double v, int precision = 0) {
    if (!std::isfinite(v)) return "null";
    char buf[64];
    const auto r = precision > 0 ? std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, precision)
                                 : std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
}
inline std::string json_number(std::int64_t v) {
    char buf[32];
    return std::string(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}
inline std::string json_number(std::uint64_t v) {
    char buf[32];
    return std::string(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

// A parsed JSON value. Objects keep their keys in file order.
class JsonValue {
public:
    enum class Kind { null, boolean, number, string, array, object };

    JsonValue() = default;
    static JsonValue make(Kind k) {
        JsonValue v;
        v.kind_ = k;
        return v;
    }

    Kind kind() const { return kind_; }
    bool is_null() const { return kind_ == Kind::null; }
    bool is_bool() const { return kind_ == Kind::boolean; }
    bool is_number() const { return kind_ == Kind::number; }
    bool is_string() const { return kind_ == Kind::string; }
    bool is_array() const { return kind_ == Kind::array; }
    bool is_object() const { return kind_ == Kind::object; }

    bool as_bool() const { return bool_; }
    double as_double() const { return number_; }
    // True when the number was written as a non-negative integer that fits
    // in 64 bits (no fraction, no exponent); its exact value is as_uint().
    bool is_uint() const { return kind_ == Kind::number && is_uint_; }
    std::uint64_t as_uint() const { return uint_; }
    const std::string& as_string() const { return string_; }
    const std::vector<JsonValue>& items() const { return items_; }
    const std::vector<std::pair<std::string, JsonValue>>& members() const { return members_; }

    // The member `key` of an object, or nullptr.
    const JsonValue* find(std::string_view key) const {
        for (const auto& kv : members_)
            if (kv.first == key) return &kv.second;
        return nullptr;
    }

    // Builders (used by the writer side).
    static JsonValue string(std::string s) {
        JsonValue v = make(Kind::string);
        v.string_ = std::move(s);
        return v;
    }
    static JsonValue number(double d) {
        JsonValue v = make(Kind::number);
        v.number_ = d;
        return v;
    }
    static JsonValue unsigned_integer(std::uint64_t u) {
        JsonValue v = make(Kind::number);
        v.number_ = static_cast<double>(u);
        v.uint_ = u;
        v.is_uint_ = true;
        return v;
    }
    static JsonValue boolean(bool b) {
        JsonValue v = make(Kind::boolean);
        v.bool_ = b;
        return v;
    }
    JsonValue& push(JsonValue item) {
        items_.push_back(std::move(item));
        return items_.back();
    }
    // Sets `key` (replacing an existing member of that name).
    JsonValue& set(const std::string& key, JsonValue value) {
        for (auto& kv : members_)
            if (kv.first == key) return kv.second = std::move(value);
        members_.emplace_back(key, std::move(value));
        return members_.back().second;
    }

    // Compact text (indent < 0) or pretty-printed with `indent` spaces a level.
    // Doubles are written with `precision` significant digits (0: shortest round trip).
    std::string dump(int indent = -1, int precision = 0) const {
        std::string out;
        write(out, indent, 0, precision);
        return out;
    }

private:
    friend class JsonParser;

    void write(std::string& out, int indent, int level, int precision) const {
        const auto newline = [&](int lvl) {
            if (indent < 0) return;
            out += '\n';
            out.append(static_cast<std::size_t>(indent * lvl), ' ');
        };
        switch (kind_) {
            case Kind::null: out += "null"; break;
            case Kind::boolean: out += bool_ ? "true" : "false"; break;
            case Kind::number: out += is_uint_ ? json_number(uint_) : json_number(number_, precision); break;
            case Kind::string: out += json_quote(string_); break;
            case Kind::array:
                out += '[';
                for (std::size_t i = 0; i < items_.size(); ++i) {
                    if (i) out += indent < 0 ? "," : ", ";
                    items_[i].write(out, indent, level, precision);
                }
                out += ']';
                break;
            case Kind::object:
                if (members_.empty()) {
                    out += "{}";
                    break;
                }
                out += '{';
                for (std::size_t i = 0; i < members_.size(); ++i) {
                    if (i) out += ',';
                    newline(level + 1);
                    out += json_quote(members_[i].first);
                    out += indent < 0 ? ":" : ": ";
                    members_[i].second.write(out, indent, level + 1, precision);
                }
                newline(level);
                out += '}';
                break;
        }
    }

    Kind kind_ = Kind::null;
    bool bool_ = false;
    bool is_uint_ = false;
    double number_ = 0;
    std::uint64_t uint_ = 0;
    std::string string_;
    std::vector<JsonValue> items_;
    std::vector<std::pair<std::string, JsonValue>> members_;
};

class JsonParser {
public:
    static constexpr int max_depth = 64;

    JsonParser(std::string_view text, std::string what) : s_(text), what_(std::move(what)) {}

    JsonValue parse() {
        skip_ws();
        JsonValue v = value(0);
        skip_ws();
        if (p_ != s_.size()) fail("expected the end of the JSON text, found more");
        return v;
    }

private:
    [[noreturn]] void fail(const std::string& msg) const {
        throw FormatError(what_ + ": invalid JSON at byte " + std::to_string(p_) + ": " + msg);
    }
    std::string found() const {
        if (p_ >= s_.size()) return "the end of the text";
        const auto c = static_cast<unsigned char>(s_[p_]);
        if (c >= 0x20 && c < 0x7f) return std::string("'") + s_[p_] + "'";
        return "byte " + std::to_string(c);
    }
    void skip_ws() {
        while (p_ < s_.size() && (s_[p_] == ' ' || s_[p_] == '\t' || s_[p_] == '\n' || s_[p_] == '\r')) ++p_;
    }
    void expect(char c) {
        if (p_ >= s_.size() || s_[p_] != c) fail(std::string("expected '") + c + "', found " + found());
        ++p_;
    }
    void literal(std::string_view word) {
        if (s_.substr(p_, word.size()) != word) fail("expected '" + std::string(word) + "', found " + found());
        p_ += word.size();
    }

    JsonValue value(int depth) {
        if (depth > max_depth) fail("nested deeper than " + std::to_string(max_depth) + " levels");
        if (p_ >= s_.size()) fail("expected a value, found the end of the text");
        switch (s_[p_]) {
            case '{': return object(depth);
            case '[': return array(depth);
            case '"': return JsonValue::string(string());
            case 't': literal("true"); return JsonValue::boolean(true);
            case 'f': literal("false"); return JsonValue::boolean(false);
            case 'n': literal("null"); return JsonValue();
            default: return number();
        }
    }

    JsonValue object(int depth) {
        JsonValue v = JsonValue::make(JsonValue::Kind::object);
        expect('{');
        skip_ws();
        if (p_ < s_.size() && s_[p_] == '}') {
            ++p_;
            return v;
        }
        for (;;) {
            skip_ws();
            if (p_ >= s_.size() || s_[p_] != '"') fail("expected a member name in quotes, found " + found());
            const std::size_t at = p_;
            std::string key = string();
            if (v.find(key)) {
                p_ = at;
                fail("duplicate member name " + json_quote(key));
            }
            skip_ws();
            expect(':');
            skip_ws();
            JsonValue item = value(depth + 1);
            v.members_.emplace_back(std::move(key), std::move(item));
            skip_ws();
            if (p_ < s_.size() && s_[p_] == ',') {
                ++p_;
                continue;
            }
            expect('}');
            return v;
        }
    }

    JsonValue array(int depth) {
        JsonValue v = JsonValue::make(JsonValue::Kind::array);
        expect('[');
        skip_ws();
        if (p_ < s_.size() && s_[p_] == ']') {
            ++p_;
            return v;
        }
        for (;;) {
            skip_ws();
            v.items_.push_back(value(depth + 1));
            skip_ws();
            if (p_ < s_.size() && s_[p_] == ',') {
                ++p_;
                continue;
            }
            expect(']');
            return v;
        }
    }

    unsigned hex4() {
        if (s_.size() - p_ < 4) fail("expected 4 hex digits after \\u, found the end of the text");
        unsigned v = 0;
        for (int i = 0; i < 4; ++i) {
            const char c = s_[p_++];
            v <<= 4;
            if (c >= '0' && c <= '9')
                v |= static_cast<unsigned>(c - '0');
            else if (c >= 'a' && c <= 'f')
                v |= static_cast<unsigned>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                v |= static_cast<unsigned>(c - 'A' + 10);
            else {
                --p_;
                fail("expected a hex digit after \\u, found " + found());
            }
        }
        return v;
    }
    static void put_utf8(std::string& o, unsigned cp) {
        if (cp < 0x80) {
            o += static_cast<char>(cp);
        } else if (cp < 0x800) {
            o += static_cast<char>(0xC0 | (cp >> 6));
            o += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            o += static_cast<char>(0xE0 | (cp >> 12));
            o += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            o += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            o += static_cast<char>(0xF0 | (cp >> 18));
            o += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            o += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            o += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }
    // One UTF-8 sequence starting at p_ (already known to be >= 0x80), copied to o.
    void utf8_sequence(std::string& o) {
        const auto b0 = static_cast<unsigned char>(s_[p_]);
        std::size_t n = 0;
        unsigned cp = 0, min = 0;
        if (b0 >= 0xC2 && b0 <= 0xDF) {
            n = 1, cp = b0 & 0x1Fu, min = 0x80;
        } else if (b0 >= 0xE0 && b0 <= 0xEF) {
            n = 2, cp = b0 & 0x0Fu, min = 0x800;
        } else if (b0 >= 0xF0 && b0 <= 0xF4) {
            n = 3, cp = b0 & 0x07u, min = 0x10000;
        } else {
            fail("expected UTF-8 text, found " + found());
        }
        if (s_.size() - p_ <= n) fail("expected UTF-8 text, found a truncated sequence");
        for (std::size_t i = 1; i <= n; ++i) {
            const auto b = static_cast<unsigned char>(s_[p_ + i]);
            if ((b & 0xC0) != 0x80) fail("expected UTF-8 text, found an invalid continuation byte");
            cp = (cp << 6) | (b & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) fail("expected UTF-8 text, found an invalid sequence");
        o.append(s_.data() + p_, n + 1);
        p_ += n + 1;
    }

    std::string string() {
        expect('"');
        std::string o;
        for (;;) {
            if (p_ >= s_.size()) fail("expected the closing '\"' of a string, found the end of the text");
            const auto c = static_cast<unsigned char>(s_[p_]);
            if (c == '"') {
                ++p_;
                return o;
            }
            if (c < 0x20) fail("expected a character in a string, found control " + found() + " (escape it)");
            if (c >= 0x80) {
                utf8_sequence(o);
                continue;
            }
            ++p_;
            if (c != '\\') {
                o += static_cast<char>(c);
                continue;
            }
            if (p_ >= s_.size()) fail("expected an escape after '\\', found the end of the text");
            const char e = s_[p_++];
            switch (e) {
                case '"': o += '"'; break;
                case '\\': o += '\\'; break;
                case '/': o += '/'; break;
                case 'b': o += '\b'; break;
                case 'f': o += '\f'; break;
                case 'n': o += '\n'; break;
                case 'r': o += '\r'; break;
                case 't': o += '\t'; break;
                case 'u': {
                    unsigned cp = hex4();
                    if (cp >= 0xDC00 && cp <= 0xDFFF) fail("expected a high surrogate first, found a lone low surrogate");
                    if (cp >= 0xD800 && cp <= 0xDBFF) {
                        if (s_.substr(p_, 2) != "\\u") fail("expected a low surrogate \\uDC00..\\uDFFF after a high one");
                        p_ += 2;
                        const unsigned lo = hex4();
                        if (lo < 0xDC00 || lo > 0xDFFF) fail("expected a low surrogate \\uDC00..\\uDFFF after a high one");
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    }
                    put_utf8(o, cp);
                    break;
                }
                default: --p_; fail("expected one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u, found \\" + found());
            }
        }
    }

    JsonValue number() {
        const std::size_t start = p_;
        const auto digit = [&] { return p_ < s_.size() && s_[p_] >= '0' && s_[p_] <= '9'; };
        bool negative = false, integral = true;
        if (p_ < s_.size() && s_[p_] == '-') {
            negative = true;
            ++p_;
        }
        if (!digit()) fail("expected a value, found " + found());
        if (s_[p_] == '0') {
            ++p_;
            if (digit()) fail("expected no leading zeros in a number, found " + found());
        } else {
            while (digit()) ++p_;
        }
        if (p_ < s_.size() && s_[p_] == '.') {
            integral = false;
            ++p_;
            if (!digit()) fail("expected a digit after '.', found " + found());
            while (digit()) ++p_;
        }
        if (p_ < s_.size() && (s_[p_] == 'e' || s_[p_] == 'E')) {
            integral = false;
            ++p_;
            if (p_ < s_.size() && (s_[p_] == '+' || s_[p_] == '-')) ++p_;
            if (!digit()) fail("expected a digit in the exponent, found " + found());
            while (digit()) ++p_;
        }
        const char* b = s_.data() + start;
        const char* e = s_.data() + p_;
        JsonValue v = JsonValue::make(JsonValue::Kind::number);
        const auto r = std::from_chars(b, e, v.number_);
        if (r.ptr != e) {
            p_ = start;
            fail("expected a number, found " + found());
        }
        if (r.ec == std::errc::result_out_of_range && std::abs(v.number_) > 1) {
            p_ = start;
            fail("number " + std::string(b, e) + " is out of the range of a double");
        }
        if (integral && !negative) {
            std::uint64_t u = 0;
            const auto ru = std::from_chars(b, e, u);
            if (ru.ec == std::errc() && ru.ptr == e) {
                v.uint_ = u;
                v.is_uint_ = true;
            }
        }
        return v;
    }

    std::string_view s_;
    std::string what_;
    std::size_t p_ = 0;
};

// Parses `text` as one JSON value; throws FormatError naming `what`.
inline JsonValue parse_json(std::string_view text, const std::string& what) { return JsonParser(text, what).parse(); }

}  // namespace detail
LATENT_NAMESPACE_END
