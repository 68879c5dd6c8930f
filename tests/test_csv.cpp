// CSV cases found by fuzzing (fuzz/fuzz_csv.cpp); the main CSV tests are in
// test_data.cpp.
#include "support.hpp"

#include <cmath>

#include <latent/data/csv.hpp>

using namespace latent;

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
