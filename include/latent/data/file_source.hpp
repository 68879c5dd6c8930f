// Data sources that read from files as training goes, so a data set larger
// than memory can be trained on (see data/source.hpp for the interface):
//
//   IdxSource<S>   an uncompressed IDX image file (MNIST family), memory-mapped, scaled to [0, 1]
//   NpySource<S>   a .npy array of float32/float64, shape (N, ...), C order, memory-mapped
//   CsvSource<S>   a numeric CSV file, parsed a block of rows at a time
//
//   latent::NpySource<float> data("train.npy");          // N x 784 float32
//   auto history = latent::fit(ae, adam, data, opt);
//
// Resident memory is bounded by the shuffle window (StreamOptions: block x
// window samples) and the batch buffers, not by the file: mapped pages of a
// window are handed back to the kernel once the window is done, and the CSV
// reader keeps only the parsed blocks of one window. Everything read from
// the file (magic, header, sizes against the file length) is checked and a
// mismatch throws FormatError naming what was expected and what was found.
//
// Memory mapping needs a POSIX system (mmap); elsewhere the mapped sources
// throw FeatureError (read the file into memory with read_idx_images instead).
#pragma once

#include "latent/core/abi.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#define LATENT_DETAIL_HAS_MMAP 1
#endif

#include "latent/data/csv.hpp"
#include "latent/data/idx.hpp"
#include "latent/data/source.hpp"
#include "latent/data/npy.hpp"

LATENT_NAMESPACE_BEGIN
namespace detail {

// A read-only memory map of a whole file.
class MappedFile {
public:
    explicit MappedFile(const std::string& path) : path_(path) {
#ifdef LATENT_DETAIL_HAS_MMAP
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) throw FormatError("cannot open '" + path + "': expected a readable file, found none (or no permission)");
        struct stat st {};
        if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            ::close(fd);
            throw FormatError("'" + path + "': expected a regular file to memory-map, found something else");
        }
        size_ = static_cast<std::size_t>(st.st_size);
        if (size_ == 0) {
            ::close(fd);
            throw FormatError("'" + path + "': expected data, found an empty file");
        }
        void* p = ::mmap(nullptr, size_, PROT_READ, MAP_SHARED, fd, 0);
        ::close(fd);
        if (p == MAP_FAILED) throw FormatError("'" + path + "': memory mapping failed (" + std::strerror(errno) + ")");
        data_ = static_cast<const unsigned char*>(p);
#else
        throw FeatureError("'" + path + "': memory-mapped data sources need a POSIX system (mmap); read the file into memory instead");
#endif
    }
    ~MappedFile() {
#ifdef LATENT_DETAIL_HAS_MMAP
        if (data_) ::munmap(const_cast<unsigned char*>(data_), size_);
#endif
    }
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const unsigned char* data() const { return data_; }
    std::size_t size() const { return size_; }
    const std::string& path() const { return path_; }

    // The bytes [offset, offset + n) leave this process's resident memory
    // (the kernel keeps them in its page cache; touching them again reads them back).
    void release(std::size_t offset, std::size_t n) {
#ifdef LATENT_DETAIL_HAS_MMAP
        const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
        const std::size_t begin = offset / page * page, end = std::min(size_, offset + n);
        if (end > begin) ::madvise(const_cast<unsigned char*>(data_) + begin, end - begin, MADV_DONTNEED);
#else
        (void)offset;
        (void)n;
#endif
    }

private:
    std::string path_;
    const unsigned char* data_ = nullptr;
    std::size_t size_ = 0;
};

inline bool host_is_little_endian() {
    const std::uint16_t one = 1;
    unsigned char b;
    std::memcpy(&b, &one, 1);
    return b == 1;
}

// Samples idx[0..n) of a row-major N x F array of T at `base` into the columns of x, times `scale`.
template <class T, class S>
void gather_rows(const unsigned char* base, Index features, const Index* idx, Index n, S scale, Matrix<S>& x) {
    x.resize(features, n);
    const std::size_t row = static_cast<std::size_t>(features) * sizeof(T);
    for (Index j = 0; j < n; ++j) {
        const unsigned char* src = base + static_cast<std::size_t>(idx[j]) * row;
        S* dst = x.col(j).data();
        if constexpr (std::is_same<T, S>::value) {
            std::memcpy(dst, src, row);
            if (scale != S(1)) x.col(j) *= scale;
        } else {
            for (Index f = 0; f < features; ++f) {
                T v;
                std::memcpy(&v, src + static_cast<std::size_t>(f) * sizeof(T), sizeof(T));
                dst[f] = static_cast<S>(v) * scale;
            }
        }
    }
}

// Checks that `path` holds exactly `header` bytes plus `count` items of `item_bytes` each.
inline void check_file_length(const std::string& path, const std::string& kind, std::size_t file_size, std::size_t header,
                              Index count, double item_bytes) {
    const double data = static_cast<double>(count) * item_bytes;
    if (data > 0x1p46)
        throw FormatError("'" + path + "': implausible " + kind + " dimensions (over 2^46 bytes of data declared); corrupted header?");
    const std::size_t want = header + static_cast<std::size_t>(data);
    if (file_size < want)
        throw FormatError("'" + path + "': truncated " + kind + " data: expected " + std::to_string(want) + " bytes (" +
                          std::to_string(count) + " samples of " + std::to_string(static_cast<std::size_t>(item_bytes)) +
                          " bytes after a " + std::to_string(header) + "-byte header), found " + std::to_string(file_size));
    if (file_size > want)
        throw FormatError("'" + path + "': expected " + std::to_string(want) + " bytes of " + kind + " file, found " +
                          std::to_string(file_size) + " (trailing bytes; wrong header?)");
}

}  // namespace detail

// An uncompressed IDX image file (N x H x W or N x F bytes), memory-mapped;
// sample j is image j, flattened row-major, scaled to [0, 1] unless scale is false.
template <class S>
class IdxSource : public DataSource<S> {
public:
    explicit IdxSource(const std::string& path, const StreamOptions& so = {}, bool scale = true)
        : so_(so), file_(checked_path(path)), scale_(scale ? S(1) / S(255) : S(1)) {
        detail::ByteSource src(path);
        header_ = detail::read_idx_header(src);
        if (header_.dims.size() < 2)
            throw FormatError("'" + path + "': expected an IDX image file (2 or more dimensions), found " +
                              std::to_string(header_.dims.size()) + " dimension(s); is this a label file?");
        offset_ = 4 + 4 * header_.dims.size();
        double item = 1;
        for (std::size_t i = 1; i < header_.dims.size(); ++i) item *= static_cast<double>(header_.dims[i]);
        detail::check_file_length(path, "IDX", file_.size(), offset_, header_.count(), item);
    }

    Index samples() const override { return header_.count(); }
    Index features() const override { return header_.item_size(); }
    StreamOptions stream_options() const override { return so_; }
    const IdxHeader& header() const { return header_; }
    // One sample's shape: {1, H, W} for images, {F} for N x F.
    Shape shape() const { return idx_image_shape(header_, file_.path()); }

    void gather(const Index* idx, Index n, Matrix<S>& x, Matrix<S>*, Matrix<S>*) override {
        detail::gather_rows<std::uint8_t, S>(file_.data() + offset_, features(), idx, n, scale_, x);
    }
    void release(Index begin, Index end) override {
        const auto f = static_cast<std::size_t>(features());
        file_.release(offset_ + static_cast<std::size_t>(begin) * f, static_cast<std::size_t>(end - begin) * f);
    }
    // IDX bytes are always finite.
    bool values_checked() const override { return true; }

private:
    static const std::string& checked_path(const std::string& path) {
        if (detail::file_exists(path) && detail::looks_gzipped(path))
            throw FormatError("'" + path + "': expected an uncompressed IDX file to memory-map, found gzip data (gunzip -k it, or load it "
                              "into memory with read_idx_images)");
        return path;
    }

    StreamOptions so_;
    detail::MappedFile file_;
    S scale_;
    IdxHeader header_;
    std::size_t offset_ = 0;
};

// A .npy array of little-endian float32 ('<f4') or float64 ('<f8'), shape
// (N, d1, ...) in C order, memory-mapped; sample j is row j (d1 x ... values).
template <class S>
class NpySource : public DataSource<S> {
public:
    explicit NpySource(const std::string& path, const StreamOptions& so = {}) : so_(so), file_(path) {
        const NpyLayout h = parse_npy_layout(reinterpret_cast<const char*>(file_.data()), file_.size(), "'" + path + "'");
        if (h.dtype != NpyDtype::f4 && h.dtype != NpyDtype::f8)
            throw FormatError("'" + path + "': expected a .npy array of '<f4' (float32) or '<f8' (float64), found '" +
                              npy_descr(h.dtype) + "'");
        bytes_ = npy_itemsize(h.dtype);
        if (!detail::host_is_little_endian()) throw FeatureError("NpySource: little-endian .npy data needs a little-endian host");
        if (h.shape.empty()) throw FormatError("'" + path + "': expected an array of shape (N, ...), found a scalar");
        double features = 1;
        for (std::size_t i = 1; i < h.shape.size(); ++i) features *= static_cast<double>(h.shape[i]);
        if (features > static_cast<double>(std::numeric_limits<int>::max()))
            throw FormatError("'" + path + "': expected at most 2^31 - 1 values per sample, found " + std::to_string(features));
        features_ = static_cast<Index>(features);
        if (h.fortran_order && h.shape.size() > 1 && features_ > 1 && h.shape[0] > 1)
            throw FormatError("'" + path + "': expected C order (fortran_order False), found Fortran order; save "
                              "np.ascontiguousarray(a)");
        count_ = h.shape[0];
        offset_ = h.data_offset;
        detail::check_file_length(path, ".npy", file_.size(), offset_, count_, static_cast<double>(features_) * bytes_);
    }

    Index samples() const override { return count_; }
    Index features() const override { return features_; }
    StreamOptions stream_options() const override { return so_; }

    void gather(const Index* idx, Index n, Matrix<S>& x, Matrix<S>*, Matrix<S>*) override {
        if (bytes_ == 4)
            detail::gather_rows<float, S>(file_.data() + offset_, features_, idx, n, S(1), x);
        else
            detail::gather_rows<double, S>(file_.data() + offset_, features_, idx, n, S(1), x);
    }
    void release(Index begin, Index end) override {
        const auto row = static_cast<std::size_t>(features_) * bytes_;
        file_.release(offset_ + static_cast<std::size_t>(begin) * row, static_cast<std::size_t>(end - begin) * row);
    }

private:
    StreamOptions so_;
    detail::MappedFile file_;
    Index count_ = 0, features_ = 0;
    std::size_t bytes_ = 0, offset_ = 0;
};

// A numeric CSV file (one sample per row, as read_csv reads it: header
// detected or as told, missing cells NaN), read block by block: opening it
// scans the file once for where every `block`-th row starts; a batch parses
// the blocks it needs, and at most one window of parsed blocks is kept.
// Missing cells are NaN and rejected when their batch is read (no mask).
template <class S>
class CsvSource : public DataSource<S> {
public:
    explicit CsvSource(const std::string& path, const CsvOptions& co = {}, const StreamOptions& so = {})
        : path_(path), co_(co), so_(so), in_(path, std::ios::binary) {
        if (!in_) throw FormatError("cannot open '" + path + "' for reading");
        if (so.block <= 0 || so.window <= 0)
            throw ConfigError("CsvSource: expected block > 0 and window > 0, found " + std::to_string(so.block) + " and " +
                              std::to_string(so.window));
        if (co.skip_lines != 0)  // the row index is built from raw lines; skipping is not wired into it
            throw ConfigError("CsvSource: expected CsvOptions::skip_lines = 0 (use comment lines, or read_csv), found " +
                              std::to_string(co.skip_lines));
        scan();
        cache_.resize(static_cast<std::size_t>(so.window) + 1);
    }

    Index samples() const override { return rows_; }
    Index features() const override { return static_cast<Index>(columns_.size()); }
    StreamOptions stream_options() const override { return so_; }
    const std::vector<std::string>& columns() const { return columns_; }

    void gather(const Index* idx, Index n, Matrix<S>& x, Matrix<S>*, Matrix<S>*) override {
        x.resize(features(), n);
        for (Index j = 0; j < n; ++j) {
            const Index b = idx[j] / so_.block;
            x.col(j) = block(b).col(idx[j] - b * so_.block);
        }
    }

private:
    // Finds where each block of data rows starts (quote-aware, skipping blank
    // and comment lines as the parser does) and reads the header.
    void scan() {
        std::vector<std::size_t> starts[2];  // every block-th record counted from record 0, and from record 1
        std::vector<long> lines[2];
        std::size_t pos = 0, first_end = std::string::npos;
        long line = 1, records = 0;
        bool line_start = true, in_quotes = false, in_comment = false;
        std::vector<char> buf(std::size_t{1} << 20);
        std::string first;  // the text of record 0 (header or first row)
        for (;;) {
            in_.read(buf.data(), static_cast<std::streamsize>(buf.size()));
            const std::size_t got = static_cast<std::size_t>(in_.gcount());
            if (got == 0) break;
            std::size_t i = 0;
            if (pos == 0 && got >= 3 && static_cast<unsigned char>(buf[0]) == 0xEF && static_cast<unsigned char>(buf[1]) == 0xBB &&
                static_cast<unsigned char>(buf[2]) == 0xBF)
                i = 3;  // UTF-8 byte order mark
            for (; i < got; ++i) {
                const char c = buf[i];
                if (line_start) {
                    if (c == '\n') {
                        ++line;
                        continue;
                    }
                    if (c == '\r') continue;
                    line_start = false;
                    if (co_.comment != '\0' && c == co_.comment) {
                        in_comment = true;
                        continue;
                    }
                    for (int k = 0; k < 2; ++k)
                        if (records >= k && (records - k) % so_.block == 0) {
                            starts[k].push_back(pos + i);
                            lines[k].push_back(line);
                        }
                    if (records == 1) first_end = pos + i;
                    ++records;
                }
                if (records == 1 && first_end == std::string::npos && !in_comment) first += c;
                if (in_comment) {
                    if (c == '\n') {
                        in_comment = false;
                        line_start = true;
                        ++line;
                    }
                    continue;
                }
                if (c == co_.quote) {
                    in_quotes = !in_quotes;
                } else if (c == '\n') {
                    ++line;
                    line_start = !in_quotes;
                }
                if (first.size() > (std::size_t{1} << 24))
                    throw DataError("'" + path_ + "': expected a first row under 16 MB, found more (binary file?)");
            }
            pos += got;
        }
        if (in_.bad()) throw FormatError("error while reading '" + path_ + "'");
        if (records == 0) throw DataError("'" + path_ + "': expected at least one row, found an empty file");
        file_size_ = pos;
        const auto recs = detail::split_csv(first, co_, "'" + path_ + "'");
        if (recs.empty()) throw DataError("'" + path_ + "': expected at least one row, found none");
        const bool header = detail::csv_is_header(recs[0], co_);
        for (std::size_t j = 0; j < recs[0].fields.size(); ++j)
            columns_.push_back(header ? detail::trim_ws(recs[0].fields[j]) : "col" + std::to_string(j));
        const int k = header ? 1 : 0;
        rows_ = records - k;
        if (rows_ <= 0) throw DataError("'" + path_ + "': expected at least one data row after the header, found none");
        starts_ = std::move(starts[k]);
        lines_ = std::move(lines[k]);
        starts_.push_back(file_size_);
        in_.clear();
    }

    // The parsed rows of block b (features x rows), from the cache or the file.
    const Matrix<S>& block(Index b) {
        ++clock_;
        Cached* victim = &cache_[0];
        for (auto& c : cache_) {
            if (c.id == b) {
                c.used = clock_;
                return c.data;
            }
            if (c.used < victim->used) victim = &c;
        }
        const auto begin = starts_[static_cast<std::size_t>(b)], end = starts_[static_cast<std::size_t>(b) + 1];
        text_.resize(end - begin);
        in_.seekg(static_cast<std::streamoff>(begin));
        in_.read(&text_[0], static_cast<std::streamsize>(text_.size()));
        if (static_cast<std::size_t>(in_.gcount()) != text_.size())
            throw FormatError("'" + path_ + "': expected " + std::to_string(text_.size()) + " bytes at offset " + std::to_string(begin) +
                              ", found fewer (file changed while training?)");
        CsvOptions o = co_;
        o.header = CsvHeader::absent;
        const std::string where = "'" + path_ + "' (block of rows from line " + std::to_string(lines_[static_cast<std::size_t>(b)]) + ")";
        CsvTable<S> t = parse_csv<S>(text_, o, where);
        const Index want = std::min(so_.block, rows_ - b * so_.block);
        if (t.features() != features() || t.rows() != want)
            throw DataError(where + ": expected " + std::to_string(want) + " rows of " + std::to_string(features()) + " fields, found " +
                            std::to_string(t.rows()) + " rows of " + std::to_string(t.features()));
        victim->id = b;
        victim->used = clock_;
        victim->data = std::move(t.data);
        return victim->data;
    }

    struct Cached {
        Index id = -1;
        long used = 0;
        Matrix<S> data;
    };

    std::string path_;
    CsvOptions co_;
    StreamOptions so_;
    std::ifstream in_;
    std::vector<std::string> columns_;
    Index rows_ = 0;
    std::size_t file_size_ = 0;
    std::vector<std::size_t> starts_;  // byte offset of each block's first row, then the file size
    std::vector<long> lines_;          // line of each block's first row
    std::vector<Cached> cache_;
    long clock_ = 0;
    std::string text_;
};

LATENT_NAMESPACE_END

#undef LATENT_DETAIL_HAS_MMAP
