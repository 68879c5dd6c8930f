// TableSchema (data/table.hpp): kinds detected and forced, one-hot and
// standardized encoding, missing cells masked, decode round trip, unknown
// categories, bad CSV errors naming column and line, .gz tables, hide
// patterns (make_table_imputer is tested in test_imputer.cpp).
#include "support.hpp"

#include <cmath>
#include <string>

#include <latent/latent.hpp>

using namespace latent;
using latent_test::MatD;

namespace {

const char* kPeople =
    "age,city,score,member\n"
    "30,Paris,1.5,1\n"
    "40,Oslo,NA,2\n"
    "?,Paris,2.5,1\n"
    "20,,3.5,2\n"
    "50,Rome,0.5,\n";

TableSchema people_schema(const CsvCells& cells) {
    TableOptions o;
    o.categorical = {"member"};  // numeric codes forced categorical
    return TableSchema::fit(cells, o);
}

}  // namespace

TEST_CASE("TableSchema detects kinds, sorts categories and lays out blocks", "[data][table]") {
    const CsvCells cells = parse_csv_cells(kPeople, TableOptions::header_present(), "people.csv");
    REQUIRE(cells.size() == 5);
    const TableSchema s = people_schema(cells);
    REQUIRE(s.columns().size() == 4);
    const auto& c = s.columns();
    CHECK(c[0].kind == ColumnKind::numeric);
    CHECK(c[1].kind == ColumnKind::categorical);
    CHECK(c[1].categories == std::vector<std::string>{"Oslo", "Paris", "Rome"});
    CHECK(c[2].kind == ColumnKind::numeric);
    CHECK(c[3].kind == ColumnKind::categorical);
    CHECK(c[3].categories == std::vector<std::string>{"1", "2"});
    CHECK(c[1].offset == 1);
    CHECK(c[2].offset == 4);
    CHECK(c[3].offset == 5);
    CHECK(s.encoded_size() == 7);
    const auto lc = s.loss_columns();
    CHECK(lc[1].width == 3);
    CHECK(lc[1].categorical);
    CHECK_FALSE(lc[2].categorical);
    CHECK(s.column("score") == 2);
    LATENT_CHECK_THROWS_WITH_ALL(s.column("height"), ConfigError, "'height'", "age, city, score, member");
}

TEST_CASE("TableSchema encodes standardized numbers, one-hot categories and masks missing cells", "[data][table]") {
    const CsvCells cells = parse_csv_cells(kPeople, TableOptions::header_present(), "people.csv");
    const TableSchema s = people_schema(cells);
    const EncodedTable<double> t = s.encode<double>(cells);
    REQUIRE(t.data.rows() == 7);
    REQUIRE(t.data.cols() == 5);
    // age: observed 30, 40, 20, 50 -> mean 35, population std sqrt(125)
    const double sd = std::sqrt(125.0);
    CHECK(t.data(0, 0) == Approx((30 - 35) / sd));
    CHECK(t.data(0, 3) == Approx((20 - 35) / sd));
    CHECK(t.mask(0, 2) == 0);  // "?"
    CHECK(t.data(0, 2) == 0);
    // city one-hot: Paris is category 1
    CHECK(t.data.col(0).segment(1, 3) == Eigen::Vector3d(0, 1, 0));
    CHECK(t.data.col(1).segment(1, 3) == Eigen::Vector3d(1, 0, 0));
    CHECK(t.mask.col(3).segment(1, 3).isZero(0));  // empty city: the whole block masked
    CHECK(t.data.col(3).segment(1, 3).isZero(0));
    CHECK(t.mask(4, 1) == 0);  // score "NA"
    CHECK(t.mask.col(4).segment(5, 2).isZero(0));  // member empty
    CHECK(t.mask.sum() == 5 * 7 - 1 - 3 - 1 - 2);
    // with_nan: NaN exactly where the mask is 0
    const MatD nan = t.with_nan();
    CHECK((nan.array().isNaN() == (t.mask.array() == 0)).all());
    // standardize = false keeps raw values
    TableOptions raw;
    raw.categorical = {"member"};
    raw.standardize = false;
    CHECK(TableSchema::fit(cells, raw).encode<double>(cells).data(0, 1) == 40);
}

TEST_CASE("TableSchema decode inverts encode; reconstructions decode to the arg-max category", "[data][table]") {
    const CsvCells cells = parse_csv_cells(kPeople, TableOptions::header_present(), "people.csv");
    const TableSchema s = people_schema(cells);
    const EncodedTable<double> t = s.encode<double>(cells);
    const CsvCells back = s.decode(t.data, &t.mask);
    REQUIRE(back.columns == cells.columns);
    REQUIRE(back.size() == cells.size());
    for (Index r = 0; r < cells.size(); ++r)
        for (Index j = 0; j < 4; ++j) {
            const std::string& a = cells.rows[static_cast<std::size_t>(r)][static_cast<std::size_t>(j)];
            const std::string& b = back.rows[static_cast<std::size_t>(r)][static_cast<std::size_t>(j)];
            INFO("row " << r << ", column " << j << ": '" << a << "' vs '" << b << "'");
            if (a.empty() || a == "NA" || a == "?") {
                CHECK(b.empty());
            } else if (j == 0 || j == 2) {
                CHECK(std::stod(b) == Approx(std::stod(a)).epsilon(1e-14));
            } else {
                CHECK(b == a);
            }
        }
    // encoding the decoded table again gives the same matrix
    const EncodedTable<double> again = s.encode<double>(back);
    CHECK(again.mask == t.mask);
    CHECK(again.data.isApprox(t.data, 1e-14));
    // logits decode to their arg-max
    MatD logits = t.data;
    logits.col(3).segment(1, 3) << -1.0, 0.2, 3.0;  // Rome
    CHECK(s.decode(logits).rows[3][1] == "Rome");
    CHECK(s.categories_of(logits, 1)[3] == 2);
    LATENT_CHECK_THROWS_WITH_ALL(s.decode(MatD(MatD::Zero(6, 2))), ShapeError, "expected 7 encoded rows", "found 6");
}

TEST_CASE("TableSchema: unknown categories throw naming column and line, or read as missing", "[data][table]") {
    const CsvCells cells = parse_csv_cells(kPeople, TableOptions::header_present(), "people.csv");
    const TableSchema s = people_schema(cells);
    const CsvCells other = parse_csv_cells("member,score,city,age,extra\n1,2,Lima,33,x\n", TableOptions::header_present(), "new.csv");
    LATENT_CHECK_THROWS_WITH_ALL(s.encode<double>(other), DataError, "new.csv", "line 2", "column 3", "'city'", "Oslo, Paris, Rome",
                                 "found 'Lima'");
    TableOptions lenient;
    lenient.categorical = {"member"};
    lenient.unknown = UnknownCategory::missing;
    const EncodedTable<double> t = TableSchema::fit(cells, lenient).encode<double>(other);  // columns by name, "extra" ignored
    CHECK(t.mask.col(0).segment(1, 3).isZero(0));
    CHECK(t.mask(0, 0) == 1);
    CHECK(t.data.col(0).segment(5, 2) == Eigen::Vector2d(1, 0));
    const CsvCells missing_col = parse_csv_cells("age,city,score\n1,Oslo,2\n", TableOptions::header_present(), "short.csv");
    LATENT_CHECK_THROWS_WITH_ALL(s.encode<double>(missing_col), DataError, "short.csv", "'member'", "age, city, score");
}

TEST_CASE("TableSchema: bad tables and options throw naming what was expected and found", "[data][table]") {
    const auto h = TableOptions::header_present();
    // a row of the wrong width (the CSV reader's check)
    LATENT_CHECK_THROWS_WITH_ALL(parse_csv_cells("a,b\n1,2\n3\n", h, "w.csv"), DataError, "w.csv", "line 3", "expected 2 fields", "found 1");
    // an unterminated quote
    LATENT_CHECK_THROWS_WITH_ALL(parse_csv_cells("a,b\n1,\"x\n", h, "q.csv"), DataError, "q.csv", "closing quote");
    // a header only
    LATENT_CHECK_THROWS_WITH_ALL(parse_csv_cells("a,b\n", h, "e.csv"), DataError, "e.csv", "at least one data row");
    const CsvCells cells = parse_csv_cells("a,b,c\n1,x,\n2,y,\n", h, "t.csv");
    // forced numeric with text in it
    TableOptions num;
    num.numeric = {"b"};
    LATENT_CHECK_THROWS_WITH_ALL(TableSchema::fit(cells, num), DataError, "t.csv", "line 2", "column 2", "'b'", "expected a number", "found 'x'");
    // a column with nothing observed
    TableOptions drop_b;
    drop_b.drop = {"b"};
    LATENT_CHECK_THROWS_WITH_ALL(TableSchema::fit(cells, drop_b), DataError, "'c'", "at least one observed cell");
    // names that are not columns, or forced both ways
    TableOptions bad;
    bad.categorical = {"z"};
    LATENT_CHECK_THROWS_WITH_ALL(TableSchema::fit(cells, bad), ConfigError, "'z'", "a, b, c");
    TableOptions both;
    both.categorical = {"a"};
    both.numeric = {"a"};
    LATENT_CHECK_THROWS_WITH_ALL(TableSchema::fit(cells, both), ConfigError, "'a'", "both");
    // too many categories
    TableOptions few;
    few.drop = {"c"};
    few.max_categories = 1;
    LATENT_CHECK_THROWS_WITH_ALL(TableSchema::fit(cells, few), DataError, "line 3", "'b'", "at most 1 categories");
    // a text cell in a numeric column at encode time
    TableOptions ok;
    ok.drop = {"c"};
    const TableSchema s = TableSchema::fit(cells, ok);
    const CsvCells later = parse_csv_cells("a,b\n1,x\nfive,y\n", h, "later.csv");
    LATENT_CHECK_THROWS_WITH_ALL(s.encode<double>(later), DataError, "later.csv", "line 3", "'a'", "expected a number", "found 'five'");
    // an unfitted schema
    LATENT_CHECK_THROWS_WITH_ALL(TableSchema().encode<double>(cells), ConfigError, "fitted schema");
    // cells built by hand that are not rectangular
    CsvCells ragged = cells;
    ragged.rows[1].pop_back();
    LATENT_CHECK_THROWS_WITH_ALL(TableSchema::fit(ragged), DataError, "line 3", "expected 3 fields", "found 2");
}

TEST_CASE("read_table skips metadata lines, reads space-separated and gzip files", "[data][table]") {
    latent_test::TempDir dir("latent_table");
    // sklearn's layout: a "rows,features,class names" line, then headerless rows
    latent_test::write_bytes(dir.file("meta.csv"), "3,2,no,yes\n1.5,0\n2.5,1\n3.5,0\n");
    TableOptions o;
    o.csv.header = CsvHeader::absent;
    o.csv.skip_lines = 1;
    o.categorical = {"col1"};
    const CsvCells cells = read_table(dir.file("meta.csv"), o);
    CHECK(cells.size() == 3);
    CHECK(cells.lines[0] == 2);
    const TableSchema s = TableSchema::fit(cells, o);
    CHECK(s.columns()[1].categories == std::vector<std::string>{"0", "1"});
    // without skipping, the metadata line's width is reported
    o.csv.skip_lines = 0;
    LATENT_CHECK_THROWS_WITH_ALL(read_table(dir.file("meta.csv"), o), DataError, "line 2", "expected 4 fields", "found 2");
    o.csv.skip_lines = 9;
    LATENT_CHECK_THROWS_WITH_ALL(read_table(dir.file("meta.csv"), o), DataError, "at least 9 lines to skip", "found 4");
    if (has_zlib()) {
        // "1 2\n3 4\n" gzip-compressed (python3: gzip.compress(b"1 2\\n3 4\\n", 9, mtime=0))
        const unsigned char gz[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x33, 0x54, 0x30, 0xe2, 0x32,
                                    0x56, 0x30, 0xe1, 0x02, 0x00, 0x57, 0x00, 0xd6, 0x61, 0x08, 0x00, 0x00, 0x00};
        latent_test::write_bytes(dir.file("sp.csv.gz"), std::string(reinterpret_cast<const char*>(gz), sizeof gz));
        TableOptions sp;
        sp.csv.delimiter = ' ';
        sp.csv.header = CsvHeader::absent;
        const CsvCells g = read_table(dir.file("sp.csv.gz"), sp);
        REQUIRE(g.size() == 2);
        CHECK(g.rows[1][1] == "4");
    }
}

TEST_CASE("TableSchema::hide_cells hides whole cells at the rate asked", "[data][table]") {
    const CsvCells cells = parse_csv_cells(kPeople, TableOptions::header_present(), "people.csv");
    const TableSchema s = people_schema(cells);
    auto hide = s.hide_cells<double>(0.3);
    Rng rng(4);
    MatD h = MatD::Zero(7, 2000);
    hide(h, rng);
    double hidden_cells = 0;
    for (const auto& c : s.columns())
        for (Index j = 0; j < h.cols(); ++j) {
            const auto b = h.col(j).segment(c.offset, c.width());
            CHECK((b.minCoeff() == b.maxCoeff()));  // a block all hidden or all shown
            hidden_cells += b(0);
        }
    CHECK(hidden_cells / (4.0 * 2000) == Approx(0.3).margin(0.02));
    LATENT_CHECK_THROWS_WITH_ALL(s.hide_cells<double>(1.0), ConfigError, "[0, 1)");
}
