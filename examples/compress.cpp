// compress: an autoencoder as a lossy image codec. Each test image is stored
// as its code quantized to 8 bits per dimension (latent::CodeQuantizer, one
// byte per code value, the ranges and the decoder shared), written to a code
// file, read back and decoded. Compared with JPEG (stb_image_write's encoder,
// decoded with stb_image) over a sweep of qualities: bytes per image and
// PSNR / SSIM of the decoded images.
//
// JPEG sizes are given twice: the whole file, and the entropy-coded payload
// alone (the file minus its ~600 bytes of headers, which a specialised
// container could share the way the autoencoder shares its decoder).
#include "common/common.hpp"

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_JPEG
#include <stb_image.h>

#include <latent/apps/compression.hpp>
#include <latent/metrics/image_metrics.hpp>

namespace {

using Mat = latent::Matrix<float>;
using latent::Index;

struct JpegResult {
    double file_bytes = 0, payload_bytes = 0;  // means per image
    Mat decoded;
};

void append_bytes(void* ctx, void* data, int size) {
    auto* out = static_cast<std::string*>(ctx);
    out->append(static_cast<const char*>(data), static_cast<std::size_t>(size));
}

// Bytes between the end of the SOS header and the EOI marker.
std::size_t jpeg_payload(const std::string& f) {
    for (std::size_t i = 2; i + 3 < f.size();) {
        if (static_cast<unsigned char>(f[i]) != 0xFF) throw latent::FormatError("JPEG: expected a marker");
        const auto marker = static_cast<unsigned char>(f[i + 1]);
        const std::size_t len = (static_cast<unsigned char>(f[i + 2]) << 8) | static_cast<unsigned char>(f[i + 3]);
        if (marker == 0xDA) return f.size() - (i + 2 + len) - 2;
        i += 2 + len;
    }
    throw latent::FormatError("JPEG: no SOS marker");
}

JpegResult jpeg_round_trip(const Mat& images, latent::Shape shape, int quality) {
    JpegResult r;
    r.decoded.resize(images.rows(), images.cols());
    std::vector<std::uint8_t> px(static_cast<std::size_t>(images.rows()));
    std::string file;
    for (Index j = 0; j < images.cols(); ++j) {
        for (Index i = 0; i < images.rows(); ++i) px[static_cast<std::size_t>(i)] = ex::to_byte(images(i, j));
        file.clear();
        if (!stbi_write_jpg_to_func(append_bytes, &file, static_cast<int>(shape.w), static_cast<int>(shape.h), 1, px.data(), quality))
            throw latent::FormatError("stbi_write_jpg_to_func failed");
        r.file_bytes += static_cast<double>(file.size());
        r.payload_bytes += static_cast<double>(jpeg_payload(file));
        int w = 0, h = 0, c = 0;
        unsigned char* dec = stbi_load_from_memory(reinterpret_cast<const unsigned char*>(file.data()), static_cast<int>(file.size()), &w, &h, &c, 1);
        if (!dec || w != shape.w || h != shape.h) throw latent::FormatError("stb_image could not decode a JPEG it was given");
        for (Index i = 0; i < images.rows(); ++i) r.decoded(i, j) = static_cast<float>(dec[i]) / 255.0f;
        stbi_image_free(dec);
    }
    r.file_bytes /= static_cast<double>(images.cols());
    r.payload_bytes /= static_cast<double>(images.cols());
    return r;
}

// Pixels as stored in 8 bits (what JPEG starts from, for a fair PSNR).
Mat to_8bit(const Mat& x) {
    return x.unaryExpr([](float v) { return static_cast<float>(ex::to_byte(v)) / 255.0f; });
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Compression: 8-bit autoencoder codes vs JPEG (bytes per image, PSNR, SSIM)"};
    ex::CommonFlags flags;
    ex::add_common_flags(app, flags, 10, 128);
    Index code = 32;
    double lr = 1e-3;
    std::vector<int> qualities = {1, 5, 10, 20, 30, 50, 75, 90};
    app.add_option("--code", code, "Code size = bytes per image")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--lr", lr, "Adam learning rate")->capture_default_str();
    app.add_option("--jpeg-quality", qualities, "JPEG qualities to compare")->capture_default_str();
    std::string npy;
    ex::add_npy_flag(app, npy, "the test images' codes before quantization (N x code)");
    CLI11_PARSE(app, argc, argv);
    ex::apply_threads(flags);

    return ex::run([&] {
        ex::Timer total;
        const ex::ImageData data = ex::load_image_data(flags);
        const latent::Shape shape = data.shape;
        const Mat test = to_8bit(data.test_x);
        std::cout << "data: " << data.source << " (train " << data.train_x.cols() << ", test " << test.cols() << " images)\n";

        ex::Timer t_train;
        auto ae = ex::train_dense_autoencoder(data.train_x, {512, 128}, code, flags, lr);
        const double train_seconds = t_train.seconds();

        // 8-bit codes: ranges from the training codes, stored in a code file, read back.
        latent::CodeQuantizer<float> quant;
        quant.fit(ae.encode(data.train_x));
        const Mat z = ae.encode(test);
        ex::write_npy(npy, z);
        const latent::QuantizedCodes q = quant.quantize(z);
        const std::string code_file = ex::out_path(flags, "compress_codes.ltq");
        latent::save_codes(code_file, quant, q);
        latent::CodeQuantizer<float> loaded;
        const latent::QuantizedCodes back = latent::load_codes(code_file, loaded);
        const Mat decoded_8bit = ae.decode(loaded.dequantize(back));
        const Mat decoded_float = ae.decode(z);
        Index decoder_params = 0;
        for (const auto& v : ae.parameters())
            if (v.name.rfind("decoder", 0) == 0) decoder_params += v.value.size();
        const double file_per_image = static_cast<double>(std::filesystem::file_size(code_file)) / static_cast<double>(test.cols());

        ex::Table table({"codec", "bytes / image", "JPEG payload", "PSNR dB", "SSIM"});
        std::vector<ex::Json> rows;
        auto add = [&](const std::string& name, double bytes, double payload, const Mat& dec) {
            const double p = latent::psnr(test, dec), s = latent::ssim(test, dec, shape);
            table.row({name, ex::num(bytes, 1), payload > 0 ? ex::num(payload, 1) : std::string("-"), ex::num(p, 2), ex::num(s, 3)});
            rows.push_back(ex::Json().set("codec", name).set("bytes_per_image", bytes).set("jpeg_payload_bytes", payload).set("psnr", p).set("ssim", s));
            return p;
        };
        add("AE-" + std::to_string(code) + " float32 codes", 4.0 * static_cast<double>(code), 0, decoded_float);
        const double ae_psnr = add("AE-" + std::to_string(code) + " 8-bit codes (file)", file_per_image, 0, decoded_8bit);
        std::vector<JpegResult> jpegs;
        double best_gap = 1e300;
        std::size_t nearest = 0;
        for (std::size_t k = 0; k < qualities.size(); ++k) {
            jpegs.push_back(jpeg_round_trip(test, shape, qualities[k]));
            add("JPEG q" + std::to_string(qualities[k]), jpegs.back().file_bytes, jpegs.back().payload_bytes, jpegs.back().decoded);
            const double gap = std::abs(jpegs.back().payload_bytes - static_cast<double>(code));
            if (gap < best_gap) best_gap = gap, nearest = k;
        }
        std::cout << '\n';
        table.print();
        const double jpeg_near_psnr = latent::psnr(test, jpegs[nearest].decoded);
        std::cout << "\nAE: 784-512-128-" << code << " (mirrored), " << flags.epochs << " epochs in " << ex::num(train_seconds, 1)
                  << " s; code file " << code_file << ": " << std::filesystem::file_size(code_file) << " bytes for " << test.cols()
                  << " images (" << code << " bytes each + ranges + header)\n"
                  << "closest JPEG by payload: q" << qualities[nearest] << " (" << ex::num(jpegs[nearest].payload_bytes, 1)
                  << " payload bytes, " << ex::num(jpegs[nearest].file_bytes, 0) << " as a file): PSNR " << ex::num(jpeg_near_psnr, 2)
                  << " dB vs AE " << ex::num(ae_psnr, 2) << " dB at " << code << " bytes -> "
                  << (ae_psnr > jpeg_near_psnr ? "the AE wins at this budget" : "JPEG wins even at this budget") << "\n";
        for (std::size_t k = 0; k < qualities.size(); ++k)
            if (latent::psnr(test, jpegs[k].decoded) >= ae_psnr) {
                std::cout << "JPEG reaches the AE's PSNR from q" << qualities[k] << ": " << ex::num(jpegs[k].payload_bytes, 1)
                          << " payload bytes (" << ex::num(jpegs[k].payload_bytes / static_cast<double>(code), 1) << "x the AE's), "
                          << ex::num(jpegs[k].file_bytes, 0) << " bytes as a file\n";
                break;
            }
        std::cout << "caveats: the AE only works on images like its training set and its decoder (" << decoder_params
                  << " parameters, " << ex::num(4.0 * static_cast<double>(decoder_params) / 1e6, 2)
                  << " MB as float32) must ship with the codes; its quality saturates, while JPEG keeps improving with more bytes.\n"
                  << "stb writes 3-component (YCbCr) JPEG even for grey input, so its payloads carry a little chroma. total "
                  << ex::num(total.seconds(), 1) << " s\n";

        const Index show = 10;
        std::vector<Mat> grid = {test.leftCols(show), decoded_8bit.leftCols(show), jpegs[nearest].decoded.leftCols(show)};
        const std::string png = ex::out_path(flags, "compress.png");
        ex::write_image_grid(png, grid, shape, 2);
        std::cout << "wrote " << png << " (rows: original, AE 8-bit codes, JPEG q" << qualities[nearest] << ")\n";

        ex::write_json(flags.json, ex::Json()
                                       .set("source", data.source)
                                       .set("code", static_cast<long>(code))
                                       .set("epochs", flags.epochs)
                                       .set("train_seconds", train_seconds)
                                       .set("rows", rows)
                                       .set("nearest_jpeg_quality", qualities[nearest])
                                       .set("png", png)
                                       .set("seconds", total.seconds()));
        return 0;
    });
}
