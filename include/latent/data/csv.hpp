// CSV reading and writing for numeric tables.
//
// A table of R rows and F columns is returned as an F x R matrix: one row of
// the file (one sample) per column, like every batch in latent. Empty cells
// and the missing-value tokens in CsvOptions::missing read as NaN (for
// imputation); any other cell that is not a number throws DataError naming
// its line and column, and a row with a different number of fields throws
// DataError too. Quoted fields ("a, b", "say ""hi""", embedded newlines)
// are supported. Writing is atomic (temp file, then rename) and writes NaN as
// an empty cell, so tables round-trip.
//
// parse_csv_cells returns the cells as text (header, rows, file lines): the
// one splitter behind parse_csv, and what data/table.hpp reads mixed-type
// (numeric and categorical) tables from.
#pragma once

#include "latent/core/abi.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "latent/core/error.hpp"
#include "latent/core/number_text.hpp"
#include "latent/core/tensor.hpp"
#include "latent/core/binary.hpp"

LATENT_NAMESPACE_BEGIN

enum class CsvHeader {
    detect,   // a first row with any non-numeric, non-missing cell is a header
    present,  // the first row is a header
    absent    // every row is data; columns are named col0, col1, ...
};

struct CsvOptions {
    char delimiter = ',';
    CsvHeader header = CsvHeader::detect;
    char quote = '"';
    char comment = '\0';  // lines starting with this character are skipped ('\0': none)
    long skip_lines = 0;  // physical lines skipped before anything is parsed (e.g. a metadata line)
    std::vector<std::string> missing = {"NA", "N/A", "NaN", "nan", "null", "?"};  // besides the empty cell
};

template <class S>
struct CsvTable {
    std::vector<std::string> columns;  // F names
    Matrix<S> data;                    // F x R: column r = row r of the file

    Index rows() const { return data.cols(); }
    Index features() const { return data.rows(); }
    // Index of a named column (throws DataError naming the known columns).
    Index column(const std::string& name) const {
        for (std::size_t i = 0; i < columns.size(); ++i)
            if (columns[i] == name) return static_cast<Index>(i);
        std::string known;
        for (std::size_t i = 0; i < columns.size(); ++i) known += (i ? ", " : "") + columns[i];
        throw DataError("CSV: expected a column named '" + name + "', found only: " + known);
    }
};

namespace detail {

struct CsvRecord {
    std::vector<std::string> fields;
    std::vector<bool> quoted;
    long line = 0;  // 1-based line where the record starts
};

inline std::string trim_ws(const std::string& s) {
    std::size_t a = 0, b = s.size();
    while (a < b && (s[a] == ' ' || s[a] == '\t')) ++a;
    while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t')) --b;
    return s.substr(a, b - a);
}

// Splits text into records; blank lines and comment lines are skipped.
inline std::vector<CsvRecord> split_csv(const std::string& text, const CsvOptions& o, const std::string& source) {
    std::vector<CsvRecord> out;
    std::size_t i = 0;
    const std::size_t n = text.size();
    long line = 1;
    if (n >= 3 && static_cast<unsigned char>(text[0]) == 0xEF && static_cast<unsigned char>(text[1]) == 0xBB &&
        static_cast<unsigned char>(text[2]) == 0xBF)
        i = 3;  // UTF-8 byte order mark
    if (o.skip_lines < 0) throw ConfigError("CSV: expected skip_lines >= 0, found " + std::to_string(o.skip_lines));
    for (long k = 0; k < o.skip_lines; ++k, ++line) {
        if (i >= n)
            throw DataError(source + ": expected at least " + std::to_string(o.skip_lines) + " lines to skip, found " + std::to_string(k));
        while (i < n && text[i] != '\n') ++i;
        if (i < n) ++i;
    }
    while (i < n) {
        // skip blank and comment lines
        if (text[i] == '\n' || (text[i] == '\r' && (i + 1 >= n || text[i + 1] == '\n'))) {
            i += text[i] == '\r' ? 2 : 1;
            ++line;
            continue;
        }
        if (o.comment != '\0' && text[i] == o.comment) {
            while (i < n && text[i] != '\n') ++i;
            if (i < n) ++i;
            ++line;
            continue;
        }
        CsvRecord rec;
        rec.line = line;
        std::string field;
        bool quoted = false, in_quotes = false, after_quote = false;
        for (;;) {
            if (i >= n) {
                if (in_quotes)
                    throw DataError(source + ": line " + std::to_string(rec.line) + ": expected a closing quote, found end of file");
                rec.fields.push_back(field);
                rec.quoted.push_back(quoted);
                break;
            }
            const char c = text[i];
            if (in_quotes) {
                if (c == o.quote) {
                    if (i + 1 < n && text[i + 1] == o.quote) {
                        field += c;
                        i += 2;
                    } else {
                        in_quotes = false;
                        after_quote = true;
                        ++i;
                    }
                } else {
                    if (c == '\n') ++line;
                    field += c;
                    ++i;
                }
                continue;
            }
            if (c == o.delimiter || c == '\n' || c == '\r') {
                rec.fields.push_back(field);
                rec.quoted.push_back(quoted);
                field.clear();
                quoted = after_quote = false;
                if (c == o.delimiter) {
                    ++i;
                    continue;
                }
                i += (c == '\r' && i + 1 < n && text[i + 1] == '\n') ? 2 : 1;
                ++line;
                break;
            }
            if (c == o.quote && trim_ws(field).empty() && !quoted) {
                field.clear();
                quoted = in_quotes = true;
                ++i;
                continue;
            }
            if (after_quote && c != ' ' && c != '\t')
                throw DataError(source + ": line " + std::to_string(line) + ", column " + std::to_string(rec.fields.size() + 1) +
                                ": expected a delimiter after a closing quote, found '" + std::string(1, c) + "'");
            if (!after_quote) field += c;
            ++i;
        }
        out.push_back(std::move(rec));
    }
    return out;
}

inline bool is_missing_cell(const std::string& cell, const CsvOptions& o) {
    if (cell.empty()) return true;
    for (const auto& m : o.missing)
        if (cell == m) return true;
    return false;
}

// Whether the first record is a header (CsvHeader::detect: any cell that is
// neither a number nor a missing-value token).
inline bool csv_is_header(const CsvRecord& first, const CsvOptions& o) {
    if (o.header != CsvHeader::detect) return o.header == CsvHeader::present;
    for (const auto& f : first.fields) {
        const std::string cell = trim_ws(f);
        double v;
        if (!is_missing_cell(cell, o) && !parse_number(cell, v)) return true;
    }
    return false;
}

}  // namespace detail

// A CSV file as text: trimmed cells, every row as wide as the header (or
// the first row), and the file line each row starts on (for messages).
struct CsvCells {
    std::vector<std::string> columns;             // F names (col0, col1, ... without a header)
    std::vector<std::vector<std::string>> rows;   // R rows of F cells
    std::vector<long> lines;                      // R 1-based line numbers
    bool header = false;                          // whether the first record was a header
    long header_line = 0;                         // its line (or the first row's)
    std::string source;                           // names the input in messages

    Index size() const { return static_cast<Index>(rows.size()); }
    Index width() const { return static_cast<Index>(columns.size()); }
    // "'t.csv': line 7, column 3 ('age')": where cell (r, j) came from.
    std::string where(Index r, Index j) const {
        return source + ": line " + std::to_string(lines[static_cast<std::size_t>(r)]) + ", column " + std::to_string(j + 1) + " ('" +
               columns[static_cast<std::size_t>(j)] + "')";
    }
};

// Splits CSV text into header and rows of text cells; `source` names it in
// error messages. Throws DataError for an empty file, no data rows, or a row
// whose width differs from the header's (naming the line).
inline CsvCells parse_csv_cells(const std::string& text, const CsvOptions& o = {}, const std::string& source = "CSV") {
    if (o.delimiter == o.quote || o.delimiter == '\n' || o.delimiter == '\r')
        throw ConfigError("CSV: expected a delimiter other than the quote character and newline");
    std::vector<detail::CsvRecord> recs = detail::split_csv(text, o, source);
    if (recs.empty()) throw DataError(source + ": expected at least one row, found an empty file");

    CsvCells t;
    t.source = source;
    t.header = detail::csv_is_header(recs[0], o);
    t.header_line = recs[0].line;
    const std::size_t width = recs[0].fields.size();
    if (t.header) {
        for (const auto& f : recs[0].fields) t.columns.push_back(detail::trim_ws(f));
    } else {
        for (std::size_t j = 0; j < width; ++j) t.columns.push_back("col" + std::to_string(j));
    }
    const std::size_t first = t.header ? 1 : 0;
    if (recs.size() == first) throw DataError(source + ": expected at least one data row after the header, found none");
    t.rows.reserve(recs.size() - first);
    t.lines.reserve(recs.size() - first);
    for (std::size_t r = first; r < recs.size(); ++r) {
        auto& rec = recs[r];
        if (rec.fields.size() != width)
            throw DataError(source + ": line " + std::to_string(rec.line) + ": expected " + std::to_string(width) + " fields (as in " +
                            (t.header ? "the header" : "the first row") + " on line " + std::to_string(recs[0].line) + "), found " +
                            std::to_string(rec.fields.size()));
        for (auto& f : rec.fields) f = detail::trim_ws(f);
        t.rows.push_back(std::move(rec.fields));
        t.lines.push_back(rec.line);
    }
    return t;
}

// Parses CSV text; `source` names it in error messages.
template <class S>
CsvTable<S> parse_csv(const std::string& text, const CsvOptions& o = {}, const std::string& source = "CSV") {
    const CsvCells cells = parse_csv_cells(text, o, source);
    CsvTable<S> t;
    t.columns = cells.columns;
    const Index width = cells.width(), rows = cells.size();
    t.data.resize(width, rows);
    const S nan = std::numeric_limits<S>::quiet_NaN();
    for (Index r = 0; r < rows; ++r) {
        for (Index j = 0; j < width; ++j) {
            const std::string& cell = cells.rows[static_cast<std::size_t>(r)][static_cast<std::size_t>(j)];
            double v;
            if (detail::is_missing_cell(cell, o)) {
                t.data(j, r) = nan;
            } else if (detail::parse_number(cell, v)) {
                t.data(j, r) = static_cast<S>(v);
            } else {
                throw DataError(cells.where(r, j) + ": expected a number or an empty cell, found '" + cell + "'");
            }
        }
    }
    return t;
}

template <class S>
CsvTable<S> read_csv(const std::string& path, const CsvOptions& o = {}) {
    return parse_csv<S>(detail::read_file_bytes(path), o, "'" + path + "'");
}

struct CsvWriteOptions {
    char delimiter = ',';
    int precision = 0;  // significant digits; 0: enough to round-trip the scalar type (9 float, 17 double)
};

namespace detail {

inline std::string csv_quote_if_needed(const std::string& s, char delim) {
    if (s.find_first_of(std::string(1, delim) + "\"\r\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

}  // namespace detail

// Formats data (F x R, one row of the file per column) as CSV text; NaN is
// written as an empty cell ("" when it is a row's only cell, so the line is
// not blank). columns: F names for a header row (empty: none).
template <class D>
std::string format_csv(const Eigen::MatrixBase<D>& data, const std::vector<std::string>& columns = {}, const CsvWriteOptions& o = {}) {
    using S = typename D::Scalar;
    if (!columns.empty() && static_cast<Index>(columns.size()) != data.rows())
        throw ShapeError("write_csv: expected " + std::to_string(data.rows()) + " column names (one per feature row), found " +
                         std::to_string(columns.size()));
    const int digits = o.precision > 0 ? o.precision : (sizeof(S) <= 4 ? 9 : 17);
    std::string out;
    for (std::size_t j = 0; j < columns.size(); ++j)
        out += (j ? std::string(1, o.delimiter) : std::string()) + detail::csv_quote_if_needed(columns[j], o.delimiter);
    if (columns.size() == 1 && columns[0].empty()) out += "\"\"";
    if (!columns.empty()) out += '\n';
    for (Index r = 0; r < data.cols(); ++r) {
        for (Index j = 0; j < data.rows(); ++j) {
            if (j) out += o.delimiter;
            const double v = static_cast<double>(data(j, r));
            if (std::isnan(v)) {
                if (data.rows() == 1) out += "\"\"";  // an empty line would read as blank and be skipped
                continue;
            }
            out += detail::format_number(v, digits);
        }
        out += '\n';
    }
    return out;
}

// Writes data (F x R) as CSV, atomically.
template <class D>
void write_csv(const std::string& path, const Eigen::MatrixBase<D>& data, const std::vector<std::string>& columns = {},
               const CsvWriteOptions& o = {}) {
    detail::write_file_atomic(path, format_csv(data, columns, o));
}

template <class S>
void write_csv(const std::string& path, const CsvTable<S>& table, const CsvWriteOptions& o = {}) {
    write_csv(path, table.data, table.columns, o);
}

LATENT_NAMESPACE_END
