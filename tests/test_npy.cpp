// NumPy .npy (data/npy.hpp): our D x N batches are NumPy's (N, D) arrays;
// every supported dtype and order reads; bad headers throw FormatError
// before anything is allocated; with numpy, Python reads what we write and
// we read what it writes.
#include "support.hpp"

#include <cstdlib>

#include <latent/data/npy.hpp>

using namespace latent;
using latent_test::contains;
using latent_test::TempDir;

namespace {

// A version 1.0 file: magic, version, u16 length, the dict padded to 64, data.
std::string npy_file(const std::string& dict, const std::string& data, int major = 1) {
    std::string h = dict;
    const std::size_t pre = major == 1 ? 10 : 12;
    while ((pre + h.size() + 1) % 64) h += ' ';
    h += '\n';
    std::string out = std::string("\x93NUMPY", 6) + static_cast<char>(major) + '\0';
    for (std::size_t i = 0; i < (major == 1 ? 2u : 4u); ++i) out += static_cast<char>((h.size() >> (8 * i)) & 0xFF);
    return out + h + data;
}

template <class T>
std::string le_bytes(std::initializer_list<T> values) {
    std::string out;
    for (T v : values) {
        char b[sizeof(T)];
        std::memcpy(b, &v, sizeof(T));
        out.append(b, sizeof(T));
    }
    return out;
}

std::string npy_error(const std::string& bytes) {
    try {
        parse_npy(bytes, "t");
    } catch (const FormatError& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("save_npy / load_npy: a D x N batch is the (N, D) array", "[npy]") {
    TempDir dir("latent_npy");
    Matrix<float> m(3, 2);  // 2 samples of 3 features
    m << 1, 4, 2, 5, 3, 6;
    save_npy(dir.file("m.npy"), m);
    const NpyArray a = read_npy(dir.file("m.npy"));
    CHECK(a.shape == std::vector<Index>{2, 3});
    CHECK(a.dtype == NpyDtype::f4);
    CHECK_FALSE(a.fortran_order);
    CHECK(a.values<float>() == std::vector<float>{1, 2, 3, 4, 5, 6});  // row n = sample n
    CHECK(load_npy<float>(dir.file("m.npy")) == m);
    CHECK(latent_test::read_bytes(dir.file("m.npy")).size() % 64 == 24 % 64);  // 64-byte header + 24 bytes

    Matrix<double> d = Matrix<double>::Random(4, 7);
    save_npy(dir.file("d.npy"), d);
    CHECK(read_npy(dir.file("d.npy")).dtype == NpyDtype::f8);
    CHECK(load_npy<double>(dir.file("d.npy")) == d);

    Vector<float> v(3);
    v << 0.5f, 1.5f, 2.5f;
    save_npy(dir.file("v.npy"), v);
    CHECK(read_npy(dir.file("v.npy")).shape == std::vector<Index>{3});
    CHECK(load_npy<float>(dir.file("v.npy")) == v.transpose());  // 3 samples of one value
}

TEST_CASE("load_npy reads every supported dtype, both orders, versions 1-3", "[npy]") {
    // (2, 3) array [[1, 2, 3], [4, 5, 6]]
    const Matrix<double> expect = (Matrix<double>(3, 2) << 1, 4, 2, 5, 3, 6).finished();
    const std::string shape = "'shape': (2, 3), }";
    CHECK(parse_npy(npy_file("{'descr': '<f8', 'fortran_order': False, " + shape, le_bytes<double>({1, 2, 3, 4, 5, 6})), "t").batch<double>() ==
          expect);
    CHECK(parse_npy(npy_file("{'descr': '<f4', 'fortran_order': True, " + shape, le_bytes<float>({1, 4, 2, 5, 3, 6})), "t").batch<double>() ==
          expect);
    CHECK(parse_npy(npy_file("{'descr': '|u1', 'fortran_order': False, " + shape, std::string("\1\2\3\4\5\6", 6)), "t").batch<double>() ==
          expect);
    CHECK(parse_npy(npy_file("{'descr': '<i4', 'fortran_order': False, " + shape, le_bytes<std::int32_t>({1, 2, 3, 4, 5, 6})), "t")
              .batch<double>() == expect);
    CHECK(parse_npy(npy_file("{'descr': '<i8', 'fortran_order': True, " + shape, le_bytes<std::int64_t>({1, 4, 2, 5, 3, 6})), "t")
              .batch<double>() == expect);
    CHECK(parse_npy(npy_file("{'shape': (2, 3), 'fortran_order': False, 'descr': '<i4', }", le_bytes<std::int32_t>({1, 2, 3, 4, 5, 6}), 2), "t")
              .batch<double>() == expect);
    CHECK(parse_npy(npy_file("{\"descr\": \"<f8\", \"fortran_order\": False, \"shape\": (6,)}", le_bytes<double>({1, 2, 3, 4, 5, 6}), 3), "t")
              .batch<double>()
              .size() == 6);
}

TEST_CASE("bad .npy files throw FormatError saying what is wrong", "[npy]") {
    const std::string ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
    const std::string d8(8, '\0');
    CHECK(npy_error(npy_file(ok, d8)) == "no error");
    CHECK(contains(npy_error("NUMPY"), "not a .npy file"));
    CHECK(contains(npy_error(std::string("\x93NUMPX\1\0\0\0", 10)), "not a .npy file"));
    std::string v4 = npy_file(ok, d8);
    v4[6] = 4;
    CHECK(contains(npy_error(v4), "version 1.0, 2.0 or 3.0, found 4.0"));
    std::string longer = npy_file(ok, d8);
    longer[9] = 0x7F;  // header length beyond the file
    CHECK(contains(npy_error(longer), "truncated"));
    CHECK(contains(npy_error(npy_file("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", d8)), "big-endian '>f4'"));
    CHECK(contains(npy_error(npy_file("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", d8)), "found '<c8'"));
    CHECK(contains(npy_error(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", d8)), "expected 4 bytes"));
    CHECK(contains(npy_error(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 2), }", d8)), "1-D or 2-D"));
    CHECK(contains(npy_error(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", d8)), "1-D or 2-D"));
    CHECK(contains(npy_error(npy_file("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }", d8)), "True or False"));
    CHECK(contains(npy_error(npy_file("{'descr': '<f4', 'shape': (2,), }", d8)), "missing"));
    CHECK(contains(npy_error(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", d8)), "found 'x'"));
    CHECK(contains(npy_error(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", d8)),
                   "more than the 8 bytes"));
    CHECK(contains(npy_error(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2,) ", d8)), "expected '}'"));
    CHECK(contains(npy_error(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", d8)), "non-negative"));
}

TEST_CASE("NumPy reads what save_npy writes and load_npy reads what NumPy writes", "[npy][numpy]") {
    if (std::system("/usr/bin/python3 -c 'import numpy' > /dev/null 2>&1") != 0) {
        WARN("SKIPPED: /usr/bin/python3 cannot import numpy (install python3-numpy)");
        return;
    }
    TempDir dir("latent_npy_py");
    Matrix<float> m(3, 2);
    m << 1, 4, 2, 5, 3, 6;
    save_npy(dir.file("ours.npy"), m);
    const std::string py = "import numpy as np; a = np.load('" + dir.file("ours.npy") +
                           "'); assert a.shape == (2, 3) and a.dtype == np.float32 and (a == [[1, 2, 3], [4, 5, 6]]).all(); "
                           "np.save('" + dir.file("f.npy") + "', np.asfortranarray(np.arange(6, dtype='<i8').reshape(2, 3))); "
                           "np.save('" + dir.file("u.npy") + "', np.arange(4, dtype=np.uint8))";
    REQUIRE(std::system(("/usr/bin/python3 -c \"" + py + "\"").c_str()) == 0);
    const NpyArray f = read_npy(dir.file("f.npy"));
    CHECK(f.fortran_order);
    CHECK(f.values<double>() == std::vector<double>{0, 1, 2, 3, 4, 5});
    CHECK(load_npy<float>(dir.file("u.npy")) == (Matrix<float>(1, 4) << 0, 1, 2, 3).finished());
}
