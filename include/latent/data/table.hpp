// Mixed-type tables: numeric and categorical columns as autoencoder input.
//
//   latent::CsvCells cells = latent::read_table("people.csv");      // header row; .gz read through zlib
//   latent::TableSchema schema = latent::TableSchema::fit(cells);    // kinds, categories, means and stds
//   latent::EncodedTable<float> t = schema.encode<float>(cells);     // t.data, t.mask: E x R
//   model.set_loss(std::make_unique<latent::MixedColumnLoss<float>>(schema.loss_columns()));
//   latent::CsvCells back = schema.decode(model.reconstruct(t.data)); // numbers and category names again
//
// Encoding (one sample per matrix column, as every batch in latent):
//   numeric column      1 row, standardized (x - mean) / std with StandardScaler
//                       (fitted on the observed cells; TableOptions::standardize)
//   categorical column  K rows, one-hot over its categories (sorted by name)
//   missing cell        (empty, or a CsvOptions::missing token such as "NA" or "?")
//                       every row of its block 0 in data and 0 in mask
// A column is categorical when the user names it in TableOptions::categorical
// or when one of its non-missing cells is not a number; naming it in
// TableOptions::numeric makes such a cell an error instead.
//
// Decoding maps numeric rows back to data units and each categorical block
// to its arg-max category, so logits (MixedColumnLoss' prediction) and
// one-hot rows decode alike. Errors are DataError / ConfigError naming the
// column, the file line and what was expected and found.
#pragma once

#include "latent/core/abi.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "latent/core/error.hpp"
#include "latent/core/number_text.hpp"
#include "latent/core/rng.hpp"
#include "latent/core/tensor.hpp"
#include "latent/data/csv.hpp"
#include "latent/data/idx.hpp"
#include "latent/data/scaling.hpp"
#include "latent/losses/mixed_column_loss.hpp"

LATENT_NAMESPACE_BEGIN

enum class ColumnKind { numeric, categorical };

// What encode does with a category the schema has not seen.
enum class UnknownCategory {
    error,   // throw DataError naming the column, line and the known categories
    missing  // treat the cell as missing (masked)
};

struct TableOptions {
    CsvOptions csv = header_present();     // the reader's options; a header row by default
    std::vector<std::string> categorical;  // columns forced categorical (e.g. numeric codes like 1/2)
    std::vector<std::string> numeric;      // columns forced numeric (a non-number cell is then an error)
    std::vector<std::string> drop;         // columns left out (labels, ids)
    bool standardize = true;               // numeric columns z-scored; false: raw values
    UnknownCategory unknown = UnknownCategory::error;
    Index max_categories = 10000;          // a column with more distinct values is rejected (an id column?)

    static CsvOptions header_present() {
        CsvOptions o;
        o.header = CsvHeader::present;
        return o;
    }
};

struct TableColumn {
    std::string name;
    ColumnKind kind = ColumnKind::numeric;
    std::vector<std::string> categories;  // categorical: sorted names; row offset + k is category k
    Index offset = 0;                     // first row of the column's block in the encoded matrix
    Index scaled = -1;                    // numeric: its feature in the schema's scaler

    Index width() const { return kind == ColumnKind::numeric ? 1 : static_cast<Index>(categories.size()); }
    // Index of a category, or -1.
    Index category(const std::string& value) const {
        const auto it = std::lower_bound(categories.begin(), categories.end(), value);
        return it != categories.end() && *it == value ? static_cast<Index>(it - categories.begin()) : -1;
    }
};

template <class S>
struct EncodedTable {
    Matrix<S> data;  // E x R: standardized numbers and one-hot blocks; 0 where missing
    Matrix<S> mask;  // E x R: 1 observed, 0 missing (uniform over a categorical block)

    Index rows() const { return data.cols(); }
    // data with missing entries NaN: the Imputer's convention for "missing".
    Matrix<S> with_nan() const { return (mask.array() == S(0)).select(std::numeric_limits<S>::quiet_NaN(), data.array()).matrix(); }
};

namespace detail {

// All bytes of a file, plain or gzip (through zlib, as the IDX reader).
inline std::string read_text_maybe_gz(const std::string& path) {
    constexpr std::size_t limit = std::size_t{1} << 31;  // 2 GiB: a table this size wants CsvSource, not text in memory
    ByteSource src(path);
    std::string text;
    std::vector<char> buf(std::size_t{1} << 16);
    for (std::size_t k; (k = src.read(buf.data(), buf.size())) > 0;) {
        if (text.size() + k > limit) throw DataError("'" + path + "': expected a table under 2 GiB of text, found more");
        text.append(buf.data(), k);
    }
    return text;
}

inline bool name_in(const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace detail

// Reads a CSV file (plain or .gz) as text cells; the header row is expected
// unless options.csv.header says otherwise.
inline CsvCells read_table(const std::string& path, const TableOptions& options = {}) {
    return parse_csv_cells(detail::read_text_maybe_gz(path), options.csv, "'" + path + "'");
}

class TableSchema {
public:
    TableSchema() = default;

    // Column kinds, categories and numeric statistics from cells. Throws
    // ConfigError for a forced or dropped column that does not exist (or is
    // forced both ways), DataError for a column with no observed cell, a
    // non-number in a forced-numeric column, or too many categories.
    static TableSchema fit(const CsvCells& cells, const TableOptions& options = {}) {
        check_cells(cells, "TableSchema::fit");
        TableSchema s;
        s.options_ = options;
        for (const auto* list : {&options.categorical, &options.numeric, &options.drop})
            for (const auto& name : *list)
                if (!detail::name_in(cells.columns, name))
                    throw ConfigError(cells.source + ": expected a column named '" + name + "' (named in TableOptions), found only: " +
                                      join(cells.columns));
        for (const auto& name : options.categorical)
            if (detail::name_in(options.numeric, name))
                throw ConfigError("TableOptions: column '" + name + "' is forced both categorical and numeric; expected one of them");

        std::vector<Index> numeric_sources;
        Index offset = 0;
        for (Index j = 0; j < cells.width(); ++j) {
            const std::string& name = cells.columns[static_cast<std::size_t>(j)];
            if (detail::name_in(options.drop, name)) continue;
            for (const auto& c : s.columns_)
                if (c.name == name) throw DataError(cells.source + ": expected unique column names, found '" + name + "' twice");
            TableColumn col;
            col.name = name;
            bool any = false, all_numbers = true;
            Index first_text = -1;
            for (Index r = 0; r < cells.size(); ++r) {
                const std::string& cell = cells.rows[static_cast<std::size_t>(r)][static_cast<std::size_t>(j)];
                if (detail::is_missing_cell(cell, options.csv)) continue;
                any = true;
                double v;
                if (all_numbers && !detail::parse_number(cell, v)) {
                    all_numbers = false;
                    first_text = r;
                }
            }
            if (!any)
                throw DataError(cells.where(0, j) + ": expected at least one observed cell in the column, found every cell missing");
            const bool forced_numeric = detail::name_in(options.numeric, name);
            if (forced_numeric && !all_numbers)
                throw DataError(cells.where(first_text, j) + ": expected a number (the column is forced numeric) or a missing cell, found '" +
                                cells.rows[static_cast<std::size_t>(first_text)][static_cast<std::size_t>(j)] + "'");
            col.kind = (detail::name_in(options.categorical, name) || !all_numbers) ? ColumnKind::categorical : ColumnKind::numeric;
            if (col.kind == ColumnKind::categorical) {
                for (Index r = 0; r < cells.size(); ++r) {
                    const std::string& cell = cells.rows[static_cast<std::size_t>(r)][static_cast<std::size_t>(j)];
                    if (detail::is_missing_cell(cell, options.csv)) continue;
                    const auto it = std::lower_bound(col.categories.begin(), col.categories.end(), cell);
                    if (it != col.categories.end() && *it == cell) continue;
                    if (static_cast<Index>(col.categories.size()) >= options.max_categories)
                        throw DataError(cells.where(r, j) + ": expected at most " + std::to_string(options.max_categories) +
                                        " categories (TableOptions::max_categories), found more (an id or free-text column? drop it)");
                    col.categories.insert(it, cell);
                }
                if (col.categories.size() == 1) col.categories.push_back("");  // a one-hot needs >= 2 rows; "" never matches a cell
            } else {
                col.scaled = static_cast<Index>(numeric_sources.size());
                numeric_sources.push_back(j);
            }
            col.offset = offset;
            offset += col.width();
            s.columns_.push_back(std::move(col));
        }
        if (s.columns_.empty()) throw ConfigError(cells.source + ": expected at least one column left to encode, found none (all dropped)");
        s.width_ = offset;
        s.scaler_ = StandardScaler<double>(options.standardize, options.standardize);
        if (!numeric_sources.empty()) s.scaler_.fit(numeric_values(cells, numeric_sources, options.csv));
        return s;
    }

    const std::vector<TableColumn>& columns() const { return columns_; }
    // Rows of an encoded sample.
    Index encoded_size() const { return width_; }
    const TableOptions& options() const { return options_; }
    // The numeric columns' mean and std (feature TableColumn::scaled).
    const StandardScaler<double>& scaler() const { return scaler_; }
    // Index of a named column (throws ConfigError naming the known ones).
    std::size_t column(const std::string& name) const {
        for (std::size_t c = 0; c < columns_.size(); ++c)
            if (columns_[c].name == name) return c;
        std::vector<std::string> known;
        for (const auto& c : columns_) known.push_back(c.name);
        throw ConfigError("TableSchema: expected a column named '" + name + "', found only: " + join(known));
    }

    // Cells (with at least the schema's columns, found by name, in any order)
    // to data and mask, E x R. Throws DataError naming column and line for a
    // non-number in a numeric column and (UnknownCategory::error) for an
    // unseen category.
    template <class S>
    EncodedTable<S> encode(const CsvCells& cells) const {
        require_fitted("TableSchema::encode");
        check_cells(cells, "TableSchema::encode");
        std::vector<Index> source;
        for (const auto& col : columns_) {
            const auto it = std::find(cells.columns.begin(), cells.columns.end(), col.name);
            if (it == cells.columns.end())
                throw DataError(cells.source + ": expected a column named '" + col.name + "' (in the schema), found only: " + join(cells.columns));
            source.push_back(static_cast<Index>(it - cells.columns.begin()));
        }
        EncodedTable<S> out;
        out.data.setZero(width_, cells.size());
        out.mask.setZero(width_, cells.size());
        std::vector<Index> numeric_sources;
        for (std::size_t c = 0; c < columns_.size(); ++c)
            if (columns_[c].kind == ColumnKind::numeric) numeric_sources.push_back(source[c]);
        // numeric: values (NaN when missing) through the scaler, which keeps NaN
        Matrix<double> z;
        if (!numeric_sources.empty()) z = scaler_.transform(numeric_values(cells, numeric_sources, options_.csv));
        for (std::size_t c = 0; c < columns_.size(); ++c) {
            const TableColumn& col = columns_[c];
            const Index j = source[c];
            for (Index r = 0; r < cells.size(); ++r) {
                if (col.kind == ColumnKind::numeric) {
                    const double v = z(col.scaled, r);
                    if (std::isnan(v)) continue;
                    out.data(col.offset, r) = static_cast<S>(v);
                    out.mask(col.offset, r) = S(1);
                    continue;
                }
                const std::string& cell = cells.rows[static_cast<std::size_t>(r)][static_cast<std::size_t>(j)];
                if (detail::is_missing_cell(cell, options_.csv)) continue;
                const Index k = col.category(cell);
                if (k < 0) {
                    if (options_.unknown == UnknownCategory::missing) continue;
                    throw DataError(cells.where(r, j) + ": expected one of the column's categories (" + join(col.categories) +
                                    ") or a missing cell, found '" + cell + "'");
                }
                out.data(col.offset + k, r) = S(1);
                out.mask.col(r).segment(col.offset, col.width()).setOnes();
            }
        }
        return out;
    }

    // E x R (data, a reconstruction or imputed values) back to text cells:
    // numeric rows to data units, categorical blocks to their arg-max
    // category. With a mask, cells it marks missing decode as "".
    template <class S>
    CsvCells decode(const Matrix<S>& encoded, const Matrix<S>* mask = nullptr) const {
        require_fitted("TableSchema::decode");
        if (encoded.rows() != width_)
            throw ShapeError("TableSchema::decode: expected " + std::to_string(width_) + " encoded rows, found " + std::to_string(encoded.rows()));
        if (mask && (mask->rows() != encoded.rows() || mask->cols() != encoded.cols()))
            throw ShapeError("TableSchema::decode: expected a mask " + detail::shape_of(encoded) + ", found " + detail::shape_of(*mask));
        CsvCells out;
        out.header = true;
        out.source = "decoded table";
        for (const auto& col : columns_) out.columns.push_back(col.name);
        const Matrix<double> values = numeric_rows(encoded);
        const int digits = sizeof(S) <= 4 ? 9 : 17;
        for (Index r = 0; r < encoded.cols(); ++r) {
            std::vector<std::string> row;
            for (const auto& col : columns_) {
                if (mask && (*mask)(col.offset, r) == S(0)) {
                    row.emplace_back();
                } else if (col.kind == ColumnKind::numeric) {
                    row.push_back(detail::format_number(values(col.scaled, r), digits));
                } else {
                    row.push_back(col.categories[static_cast<std::size_t>(argmax(encoded, col, r))]);
                }
            }
            out.rows.push_back(std::move(row));
            out.lines.push_back(r + 2);  // as if written with its header on line 1
        }
        return out;
    }

    // Category index (arg-max of the block) of categorical column c in each sample.
    template <class S>
    std::vector<Index> categories_of(const Matrix<S>& encoded, std::size_t c) const {
        const TableColumn& col = columns_.at(c);
        if (col.kind != ColumnKind::categorical) throw ConfigError("TableSchema::categories_of: column '" + col.name + "' is numeric; expected a categorical one");
        if (encoded.rows() != width_)
            throw ShapeError("TableSchema::categories_of: expected " + std::to_string(width_) + " encoded rows, found " + std::to_string(encoded.rows()));
        std::vector<Index> out(static_cast<std::size_t>(encoded.cols()));
        for (Index r = 0; r < encoded.cols(); ++r) out[static_cast<std::size_t>(r)] = argmax(encoded, col, r);
        return out;
    }

    // The loss's view of the columns (weight 1 each; change them freely).
    std::vector<MixedColumn> loss_columns() const {
        std::vector<MixedColumn> out;
        for (const auto& col : columns_) out.push_back(MixedColumn{col.width(), col.kind == ColumnKind::categorical, 1.0});
        return out;
    }

    // A hide pattern for Imputer::set_hide_pattern: each cell hidden with
    // probability `rate`, a categorical cell as a whole block.
    template <class S>
    std::function<void(Matrix<S>&, Rng&)> hide_cells(double rate) const {
        if (!(rate >= 0 && rate < 1)) throw ConfigError("TableSchema::hide_cells: expected a rate in [0, 1), found " + std::to_string(rate));
        std::vector<std::pair<Index, Index>> blocks;
        for (const auto& col : columns_) blocks.emplace_back(col.offset, col.width());
        const Index width = width_;
        return [blocks, rate, width](Matrix<S>& hide, Rng& rng) {
            if (hide.rows() != width)
                throw ShapeError("TableSchema::hide_cells: expected " + std::to_string(width) + " rows, found " + std::to_string(hide.rows()));
            for (Index j = 0; j < hide.cols(); ++j)
                for (const auto& b : blocks) hide.col(j).segment(b.first, b.second).setConstant(rng.bernoulli(rate) ? S(1) : S(0));
        };
    }

private:
    template <class S>
    static Index argmax(const Matrix<S>& encoded, const TableColumn& col, Index r) {
        Index k = 0;
        encoded.col(r).segment(col.offset, col.width()).maxCoeff(&k);
        return k;
    }

    // Numeric rows of encoded in data units (numeric columns x R).
    template <class S>
    Matrix<double> numeric_rows(const Matrix<S>& encoded) const {
        Matrix<double> z(scaler_.features(), encoded.cols());
        for (const auto& col : columns_)
            if (col.kind == ColumnKind::numeric) z.row(col.scaled) = encoded.row(col.offset).template cast<double>();
        return z.rows() ? scaler_.inverse_transform(z) : z;
    }

    // The numeric columns' cells as numbers (NaN missing), columns x R.
    static Matrix<double> numeric_values(const CsvCells& cells, const std::vector<Index>& sources, const CsvOptions& csv) {
        Matrix<double> x(static_cast<Index>(sources.size()), cells.size());
        for (std::size_t f = 0; f < sources.size(); ++f) {
            const Index j = sources[f];
            for (Index r = 0; r < cells.size(); ++r) {
                const std::string& cell = cells.rows[static_cast<std::size_t>(r)][static_cast<std::size_t>(j)];
                double v = std::numeric_limits<double>::quiet_NaN();
                if (!detail::is_missing_cell(cell, csv) && !detail::parse_number(cell, v))
                    throw DataError(cells.where(r, j) + ": expected a number (numeric column) or a missing cell, found '" + cell + "'");
                if (std::isinf(v)) throw DataError(cells.where(r, j) + ": expected a finite number, found '" + cell + "'");
                x(static_cast<Index>(f), r) = v;
            }
        }
        return x;
    }

    // Cells built by hand must be rectangular, with a line per row.
    static void check_cells(const CsvCells& cells, const char* what) {
        if (cells.rows.empty()) throw DataError(std::string(what) + ": " + cells.source + ": expected at least one row, found none");
        if (cells.lines.size() != cells.rows.size())
            throw DataError(std::string(what) + ": " + cells.source + ": expected a line number per row (" + std::to_string(cells.rows.size()) +
                            "), found " + std::to_string(cells.lines.size()));
        for (std::size_t r = 0; r < cells.rows.size(); ++r)
            if (cells.rows[r].size() != cells.columns.size())
                throw DataError(std::string(what) + ": " + cells.source + ": line " + std::to_string(cells.lines[r]) + ": expected " +
                                std::to_string(cells.columns.size()) + " fields (one per column name), found " +
                                std::to_string(cells.rows[r].size()));
    }
    static std::string join(const std::vector<std::string>& names) {
        std::string s;
        for (std::size_t i = 0; i < names.size(); ++i) s += (i ? ", " : "") + (names[i].empty() ? std::string("''") : names[i]);
        return s;
    }
    void require_fitted(const char* what) const {
        if (columns_.empty()) throw ConfigError(std::string(what) + ": expected a fitted schema (TableSchema::fit), found an empty one");
    }

    TableOptions options_;
    std::vector<TableColumn> columns_;
    Index width_ = 0;
    StandardScaler<double> scaler_;
};

LATENT_NAMESPACE_END
