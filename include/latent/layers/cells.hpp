// Choosing a recurrent cell by name: CellType (LSTM or GRU) and
// make_recurrent, used by the sequence models and their files.
#pragma once

#include "latent/core/abi.hpp"

#include <memory>
#include <string>

#include "latent/layers/gru.hpp"
#include "latent/layers/lstm.hpp"

LATENT_NAMESPACE_BEGIN

enum class CellType { lstm, gru };

inline const char* cell_type_name(CellType c) { return c == CellType::lstm ? "LSTM" : "GRU"; }
inline CellType cell_type_from_name(const std::string& s) {
    if (s == "LSTM" || s == "lstm") return CellType::lstm;
    if (s == "GRU" || s == "gru") return CellType::gru;
    throw ConfigError("cell type: expected LSTM or GRU, found '" + s + "'");
}

template <class S>
std::unique_ptr<Recurrent<S>> make_recurrent(CellType cell, Index units, RnnOutput output) {
    if (cell == CellType::lstm) return std::make_unique<LSTM<S>>(units, output);
    return std::make_unique<GRU<S>>(units, output);
}

LATENT_NAMESPACE_END
