// LayerConfig: the architecture description of a layer (type, attributes,
// children). Written into model files so a model can be rebuilt without code.
#pragma once

#include "latent/core/abi.hpp"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "latent/core/number_text.hpp"
#include "latent/core/tensor.hpp"

LATENT_NAMESPACE_BEGIN

struct LayerConfig {
    std::string type;
    std::vector<std::pair<std::string, std::string>> attrs;
    std::vector<LayerConfig> children;

    LayerConfig() = default;
    explicit LayerConfig(std::string t) : type(std::move(t)) {}

    LayerConfig& set(const std::string& key, const std::string& value) {
        for (auto& kv : attrs)
            if (kv.first == key) {
                kv.second = value;
                return *this;
            }
        attrs.emplace_back(key, value);
        return *this;
    }
    LayerConfig& set(const std::string& key, const char* value) { return set(key, std::string(value)); }
    LayerConfig& set(const std::string& key, double value) { return set(key, detail::format_number(value, 17)); }
    LayerConfig& set(const std::string& key, Index value) { return set(key, std::to_string(value)); }
    LayerConfig& set(const std::string& key, int value) { return set(key, std::to_string(value)); }
    LayerConfig& set(const std::string& key, bool value) { return set(key, std::string(value ? "1" : "0")); }
    LayerConfig& set(const std::string& key, Shape s) {
        return set(key, std::to_string(s.c) + "," + std::to_string(s.h) + "," + std::to_string(s.w));
    }

    bool has(const std::string& key) const {
        for (const auto& kv : attrs)
            if (kv.first == key) return true;
        return false;
    }
    const std::string& get(const std::string& key) const {
        for (const auto& kv : attrs)
            if (kv.first == key) return kv.second;
        throw FormatError("layer " + type + ": expected attribute '" + key + "', found none");
    }
    std::string get_string(const std::string& key, const std::string& fallback) const {
        return has(key) ? get(key) : fallback;
    }
    double get_double(const std::string& key) const {
        const std::string& v = get(key);
        double d = 0;
        if (!detail::parse_number(v, d))
            throw FormatError("layer " + type + ": expected a number for '" + key + "', found '" + v + "'");
        return d;
    }
    double get_double(const std::string& key, double fallback) const { return has(key) ? get_double(key) : fallback; }
    // Integers in configs are sizes, strides, counts and indices: a value
    // outside +-(2^31 - 1) is a corrupted file, refused before any layer
    // computes a shape from it.
    static constexpr std::int64_t max_index = 2147483647;
    Index get_index(const std::string& key) const { return parse_index(key, get(key)); }
    Index get_index(const std::string& key, Index fallback) const { return has(key) ? get_index(key) : fallback; }
    bool get_bool(const std::string& key, bool fallback = false) const { return has(key) ? get_index(key) != 0 : fallback; }
    Shape get_shape(const std::string& key) const {
        const std::string& v = get(key);
        const auto a = v.find(','), b = a == std::string::npos ? a : v.find(',', a + 1);
        if (b == std::string::npos || v.find(',', b + 1) != std::string::npos)
            throw FormatError("layer " + type + ": expected a shape c,h,w for '" + key + "', found '" + v + "'");
        return Shape{parse_index(key, v.substr(0, a)), parse_index(key, v.substr(a + 1, b - a - 1)), parse_index(key, v.substr(b + 1))};
    }

    friend bool operator==(const LayerConfig& a, const LayerConfig& b) {
        return a.type == b.type && a.attrs == b.attrs && a.children == b.children;
    }
    friend bool operator!=(const LayerConfig& a, const LayerConfig& b) { return !(a == b); }

    // Compact one-line form for messages: Dense{in=784,out=128}[...]
    std::string str() const {
        std::string s = type;
        if (!attrs.empty()) {
            s += "{";
            for (std::size_t i = 0; i < attrs.size(); ++i) s += (i ? "," : "") + attrs[i].first + "=" + attrs[i].second;
            s += "}";
        }
        if (!children.empty()) {
            s += "[";
            for (std::size_t i = 0; i < children.size(); ++i) s += (i ? ", " : "") + children[i].str();
            s += "]";
        }
        return s;
    }

private:
    Index parse_index(const std::string& key, const std::string& v) const {
        std::int64_t n = 0;
        if (!detail::parse_integer(v, n))
            throw FormatError("layer " + type + ": expected an integer for '" + key + "', found '" + v + "'");
        if (n > max_index || n < -max_index)
            throw FormatError("layer " + type + ": expected an integer within +-" + std::to_string(max_index) + " for '" + key +
                              "', found " + v);
        return static_cast<Index>(n);
    }
};

LATENT_NAMESPACE_END
