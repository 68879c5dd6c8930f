#include "catch.hpp"

#include <cstdio>

#include <latent/apps/compression.hpp>
#include <latent/core/rng.hpp>

using latent::Index;
using Mat = latent::Matrix<float>;

TEST_CASE("8-bit quantization round trip stays within half a step", "[apps][compression]") {
    latent::Rng rng(2);
    Mat codes(24, 300);
    rng.fill_normal(codes, 0.0, 3.0);
    codes.row(5).setConstant(1.5f);  // a constant dimension: zero range
    latent::CodeQuantizer<float> q;
    q.fit(codes);
    REQUIRE(q.dim() == 24);
    const auto bytes = q.quantize(codes);
    CHECK(bytes.bytes_per_sample() == 24);
    CHECK(bytes.bytes.size() == 24u * 300u);
    const Mat back = q.dequantize(bytes);
    for (Index k = 0; k < codes.rows(); ++k) {
        const float bound = q.max_error(k) * 1.0001f + 1e-6f;
        INFO("dimension " << k);
        CHECK((back.row(k) - codes.row(k)).cwiseAbs().maxCoeff() <= bound);
        CHECK(q.max_error(k) == Approx((codes.row(k).maxCoeff() - codes.row(k).minCoeff()) / 510.0f));
    }
    CHECK(back.row(5).isConstant(1.5f));
    // the extremes are exact
    Index jmin, jmax;
    codes.row(0).minCoeff(&jmin);
    codes.row(0).maxCoeff(&jmax);
    CHECK(bytes.bytes[static_cast<std::size_t>(jmin * 24)] == 0);
    CHECK(bytes.bytes[static_cast<std::size_t>(jmax * 24)] == 255);
}

TEST_CASE("values outside the calibrated range are clamped", "[apps][compression]") {
    latent::CodeQuantizer<float> q(latent::Vector<float>::Constant(1, 0.0f), latent::Vector<float>::Constant(1, 1.0f));
    Mat z(1, 3);
    z << -4.0f, 0.5f, 9.0f;
    const auto b = q.quantize(z);
    CHECK(b.bytes[0] == 0);
    CHECK(b.bytes[2] == 255);
    const Mat back = q.dequantize(b);
    CHECK(back(0, 0) == 0.0f);
    CHECK(back(0, 2) == 1.0f);
    CHECK(std::abs(back(0, 1) - 0.5f) <= 0.5f / 255.0f + 1e-7f);
}

TEST_CASE("code files round trip and reject corruption", "[apps][compression]") {
    latent::Rng rng(4);
    Mat codes(8, 20);
    rng.fill_uniform(codes, -2.0, 2.0);
    latent::CodeQuantizer<float> q;
    q.fit(codes);
    const auto bytes = q.quantize(codes);
    const std::string blob = latent::encode_code_file(q, bytes);
    CHECK(blob.size() == latent::code_file_size(8, 20));

    latent::CodeQuantizer<float> q2;
    const auto back = latent::decode_code_file(blob, q2);
    CHECK(back.bytes == bytes.bytes);
    CHECK(q2.lo() == q.lo());
    CHECK(q2.hi() == q.hi());
    CHECK(q2.dequantize(back) == q.dequantize(bytes));

    const std::string path = "test_apps_compression_codes.ltq";
    latent::save_codes(path, q, bytes);
    latent::CodeQuantizer<float> q3;
    CHECK(latent::load_codes(path, q3).bytes == bytes.bytes);
    std::remove(path.c_str());

    std::string flipped = blob;
    flipped[40] = static_cast<char>(flipped[40] ^ 0x10);
    CHECK_THROWS_AS(latent::decode_code_file(flipped, q2), latent::FormatError);
    CHECK_THROWS_AS(latent::decode_code_file(blob.substr(0, blob.size() - 3), q2), latent::FormatError);
    CHECK_THROWS_AS(latent::decode_code_file(std::string("NOPE") + blob.substr(4), q2), latent::FormatError);
}

TEST_CASE("quantizer rejects bad input", "[apps][compression]") {
    latent::CodeQuantizer<float> q;
    CHECK_THROWS_AS(q.quantize(Mat::Zero(2, 2)), latent::Error);
    CHECK_THROWS_AS(q.fit(Mat(0, 0)), latent::DataError);
    q.fit(Mat::Random(3, 5));
    CHECK_THROWS_AS(q.quantize(Mat::Zero(4, 1)), latent::ShapeError);
    Mat bad = Mat::Zero(3, 1);
    bad(1, 0) = std::numeric_limits<float>::infinity();
    CHECK_THROWS_AS(q.quantize(bad), latent::DataError);
    latent::QuantizedCodes wrong;
    wrong.dim = 3;
    wrong.count = 2;
    wrong.bytes.resize(5);
    CHECK_THROWS_AS(q.dequantize(wrong), latent::FormatError);
    CHECK_THROWS_AS(latent::CodeQuantizer<float>(latent::Vector<float>::Ones(2), latent::Vector<float>::Zero(2)), latent::DataError);
}
