// CSV (data/csv.hpp): header detection, NaN tokens, quoting, delimiters and
// comments, errors naming line and column, the atomic writer, and cases found
// by fuzzing (fuzz/fuzz_csv.cpp).
#include "support.hpp"

#include <cmath>
#include <filesystem>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include <latent/data/csv.hpp>

using namespace latent;
namespace fs = std::filesystem;
using latent::Index;
using latent_test::TempDir;

TEST_CASE("CSV: header detection, empty cells and NA tokens read as NaN, quoted fields", "[data][csv]") {
    const std::string text =
        "age, \"height, cm\",score\n"
        "31,180.5,1e-3\r\n"
        "\n"
        "42,,NA\n"
        "\"7\", 165 ,-2\n";
    const auto t = latent::parse_csv<double>(text);
    REQUIRE(t.columns == std::vector<std::string>{"age", "height, cm", "score"});
    REQUIRE(t.features() == 3);
    REQUIRE(t.rows() == 3);
    CHECK(t.data(0, 0) == 31);
    CHECK(t.data(1, 0) == 180.5);
    CHECK(t.data(2, 0) == 1e-3);
    CHECK(t.data(0, 1) == 42);
    CHECK(std::isnan(t.data(1, 1)));
    CHECK(std::isnan(t.data(2, 1)));
    CHECK(t.data(0, 2) == 7);
    CHECK(t.data(1, 2) == 165);
    CHECK(t.data(2, 2) == -2);
    CHECK(t.column("score") == 2);
    LATENT_CHECK_THROWS_WITH_ALL(t.column("weight"), latent::DataError, "weight", "age");
}

TEST_CASE("CSV: no header, other delimiter, comments", "[data][csv]") {
    latent::CsvOptions o;
    o.delimiter = ';';
    o.comment = '#';
    const auto t = latent::parse_csv<float>("# a comment\n1;2\n3;4\n", o);
    CHECK(t.columns == std::vector<std::string>{"col0", "col1"});
    REQUIRE(t.data.rows() == 2);
    REQUIRE(t.data.cols() == 2);
    CHECK(t.data(1, 0) == 2.0f);
    CHECK(t.data(0, 1) == 3.0f);

    o.header = latent::CsvHeader::present;  // a numeric first row forced to be a header
    const auto h = latent::parse_csv<float>("1;2\n3;4\n", o);
    CHECK(h.columns == std::vector<std::string>{"1", "2"});
    CHECK(h.rows() == 1);
}

TEST_CASE("CSV: malformed cells and ragged rows throw DataError naming line and column", "[data][csv]") {
    LATENT_CHECK_THROWS_WITH_ALL(latent::parse_csv<double>("a,b\n1,2\n3,x7\n", {}, "t.csv"), latent::DataError, "t.csv", "line 3",
                                 "column 2", "'b'", "x7");
    LATENT_CHECK_THROWS_WITH_ALL(latent::parse_csv<double>("a,b\n1,2\n3,4,5\n"), latent::DataError, "line 3", "expected 2 fields",
                                 "found 3");
    LATENT_CHECK_THROWS_WITH_ALL(latent::parse_csv<double>("a,b,c\n1,2\n"), latent::DataError, "line 2", "expected 3 fields");
    LATENT_CHECK_THROWS_WITH_ALL(latent::parse_csv<double>("a,b\n1,\"2\n"), latent::DataError, "closing quote");
    LATENT_CHECK_THROWS_WITH_ALL(latent::parse_csv<double>(""), latent::DataError, "empty");
    LATENT_CHECK_THROWS_WITH_ALL(latent::parse_csv<double>("a,b\n"), latent::DataError, "no", "data row");
    // a quoted field spanning lines counts its lines
    LATENT_CHECK_THROWS_WITH_ALL(latent::parse_csv<double>("\"a\nb\",c\n1,2\n1,q\n"), latent::DataError, "line 4", "column 2");
}

TEST_CASE("CSV writer round trips values and NaN, atomically", "[data][csv]") {
    TempDir dir;
    latent::Rng rng(5);
    latent::Matrix<double> m(3, 4);
    rng.fill_normal(m, 0.0, 1e3);
    m(1, 2) = std::numeric_limits<double>::quiet_NaN();
    latent::write_csv(dir.file("t.csv"), m, {"x", "y, z", "w"});
    const auto t = latent::read_csv<double>(dir.file("t.csv"));
    CHECK(t.columns == std::vector<std::string>{"x", "y, z", "w"});
    REQUIRE(t.data.rows() == 3);
    REQUIRE(t.data.cols() == 4);
    for (Index j = 0; j < 4; ++j)
        for (Index i = 0; i < 3; ++i) {
            if (i == 1 && j == 2)
                CHECK(std::isnan(t.data(i, j)));
            else
                CHECK(t.data(i, j) == m(i, j));  // 17 significant digits: exact
        }
    // only the target file is left behind
    CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator{}) == 1);

    latent::Matrix<float> f = m.cast<float>();
    latent::write_csv(dir.file("f.csv"), f);
    const auto tf = latent::read_csv<float>(dir.file("f.csv"));
    CHECK(tf.data(0, 0) == f(0, 0));
    CHECK(tf.data(2, 3) == f(2, 3));
    LATENT_CHECK_THROWS_WITH_ALL(latent::write_csv(dir.file("g.csv"), m, {"only one"}), latent::ShapeError, "3 column names");
    CHECK_THROWS_AS(latent::write_csv((dir.path / "no_such_dir" / "x.csv").string(), m), latent::FormatError);
}

TEST_CASE("CSV: a one-column table with missing values round trips", "[data][csv]") {
    // A missing value in a one-column table was written as an empty line,
    // which the reader skips as blank: the row was lost.
    Matrix<double> m(1, 3);
    m << std::nan(""), 3, 2.5;
    const std::string text = format_csv(m);
    const auto back = parse_csv<double>(text, CsvOptions{',', CsvHeader::absent});
    REQUIRE(back.data.cols() == 3);
    CHECK(std::isnan(back.data(0, 0)));
    CHECK(back.data(0, 1) == 3);
    CHECK(back.data(0, 2) == 2.5);
    // the fuzzer's input: '|' delimiter, no header, a blank-looking first row
    const auto t = parse_csv<double>("\r \n\t3\t\n\n2.4\n", CsvOptions{'|', CsvHeader::absent, '"', '#'});
    CHECK(parse_csv<double>(format_csv(t.data), CsvOptions{',', CsvHeader::absent}).data.cols() == t.data.cols());
}
