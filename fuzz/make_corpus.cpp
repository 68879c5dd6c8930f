// Writes the seed corpora in fuzz/corpus/<target>/ from small valid inputs.
// Run once by hand when a reader or the format changes (the seeds are in git):
//   g++ -std=c++17 -O1 -Iinclude -I/usr/include/eigen3 -DLATENT_HAS_ZLIB fuzz/make_corpus.cpp -lz -o /tmp/make_corpus
//   /tmp/make_corpus fuzz/corpus
// Each model file seed is written twice, with the mode byte fuzz_model_file
// expects: 0 (as is) and 1 (re-sealed after mutation).
#include <filesystem>
#include <fstream>

#include <zlib.h>

#include <latent/latent.hpp>

using namespace latent;
namespace fs = std::filesystem;

namespace {

fs::path root;

void put(const std::string& target, const std::string& name, const std::string& bytes) {
    fs::create_directories(root / target);
    std::ofstream(root / target / name, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

template <class Save>
void put_model(const std::string& name, Save save_to) {
    const fs::path tmp = fs::temp_directory_path() / "latent_make_corpus.lat";
    save_to(tmp.string());
    const std::string b = detail::read_file_bytes(tmp.string());
    fs::remove(tmp);
    put("model_file", name + "_raw", std::string(1, '\0') + b);
    put("model_file", name + "_resealed", std::string(1, '\1') + b);
}

std::string gzip(const std::string& s) {
    const fs::path tmp = fs::temp_directory_path() / "latent_make_corpus.gz";
    gzFile g = gzopen(tmp.c_str(), "wb9");
    gzwrite(g, s.data(), static_cast<unsigned>(s.size()));
    gzclose(g);
    std::string b = detail::read_file_bytes(tmp.string());
    fs::remove(tmp);
    return b;
}

std::string idx(std::vector<std::uint32_t> dims, const std::string& data) {
    std::string b = {0, 0, 8, static_cast<char>(dims.size())};
    for (auto d : dims)
        for (int k = 3; k >= 0; --k) b += static_cast<char>(d >> (8 * k));
    return b + data;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_corpus <corpus dir>\n");
        return 2;
    }
    root = argv[1];
    Rng rng(1);

    {  // model files
        DenseAutoencoderOptions o;
        o.sizes = {6, 4, 2};
        o.dropout = 0.25;
        auto ae = make_dense_autoencoder<float>(o, rng);
        put_model("dense_ae_f32", [&](const std::string& p) { save(ae, p); });
        o.tied = true;
        auto tied = make_dense_autoencoder<double>(o, rng);
        put_model("tied_ae_f64", [&](const std::string& p) { save(tied, p); });
        put_model("tied_decoder_f64", [&](const std::string& p) { save(tied.decoder(), p); });
        auto vae = make_dense_vae<float>({5, 3, 2}, rng, Likelihood::gaussian_learned());
        put_model("vae_f32", [&](const std::string& p) { save(vae, p); });
        auto enc = std::make_unique<Sequential<float>>();
        enc->add(std::make_unique<Conv2D<float>>(2, Size2(3, 3)), "conv,1")
            .add<BatchNorm<float>>()
            .add(std::make_unique<MaxPool2D<float>>(Size2(2, 2)), "pool")
            .add<Flatten<float>>();
        auto dec = std::make_unique<Sequential<float>>();
        dec->add<Reshape<float>>(Shape{2, 2, 2})
            .add<Upsample2D<float>>(Size2(2, 2))
            .add<ConvTranspose2D<float>>(1, Size2(3, 3))
            .add<Activation<float>>(Act::sigmoid);
        Autoencoder<float> conv(std::move(enc), std::move(dec));
        conv.build(Shape{1, 6, 6}, rng);
        put_model("conv_ae_f32", [&](const std::string& p) { save(conv, p); });
        SequenceAutoencoderOptions so;
        so.steps = 3;
        so.features = 2;
        so.encoder_units = {3};
        SequenceAutoencoder<float> seq(so, rng);
        put_model("seq_ae_f32", [&](const std::string& p) { save(seq, p); });
        Seq2SeqOptions qo;
        qo.source_steps = 2;
        qo.source_features = 3;
        qo.target_steps = 2;
        qo.target_vocab = 3;
        qo.units = 2;
        qo.cell = CellType::gru;
        Seq2Seq<float> s2s(qo, rng);
        put_model("seq2seq_f32", [&](const std::string& p) { save(s2s, p); });
    }
    {  // IDX
        std::string pixels;
        for (int i = 0; i < 2 * 3 * 3; ++i) pixels += static_cast<char>(i * 14);
        put("idx", "images", idx({2, 3, 3}, pixels));
        put("idx", "labels", idx({3}, std::string("\x01\x02\x09", 3)));
        put("idx", "images.gz", gzip(idx({2, 3, 3}, pixels)));
        put("idx", "labels.gz", gzip(idx({3}, std::string("\x01\x02\x09", 3))));
        put("idx", "two_members.gz", gzip(idx({2}, "")) + gzip(std::string("\x04\x05", 2)));
    }
    {  // CSV: first byte = options (see fuzz_csv.cpp)
        put("csv", "header", std::string(1, '\0') + "a,b,c\n1,2.5,-3e2\n,NA,\"4\"\n");
        put("csv", "semicolon_absent", std::string(1, '\x09') + "0.5;1\r\n2;\"x\"\"y\"\n");
        put("csv", "comment_tab", std::string(1, '\x42') + "# note\nx\ty\n1\t2\n\n3\t4\n");
    }
    {  // ratings: first byte = format (see fuzz_ratings.cpp)
        put("ratings", "tab", std::string(1, '\0') + "1\t10\t4\t881250949\n2\t10\t3.5\t0\n1\t20\t2\t5\n");
        put("ratings", "double_colon", std::string(1, '\2') + "1::1193::5::978300760\n2::661::3::978302109\n");
        put("ratings", "csv", std::string(1, '\3') + "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n2,3,0.5,1\n");
    }
    {  // layer configs: 3 bytes of input shape, then a binary LayerConfig
        auto put_config = [](const std::string& name, Shape in, const LayerConfig& c) {
            detail::ByteWriter w;
            detail::write_config(w, c);
            put("layer_config", name, std::string{static_cast<char>(in.c), static_cast<char>(in.h - 1), static_cast<char>(in.w - 1)} + w.buffer());
        };
        Sequential<float> s;
        s.add(std::make_unique<Dense<float>>(4), "a,b").add<Activation<float>>(Act::elu).add<Dropout<float>>(0.5).add<Dense<float>>(2);
        put_config("dense_stack", Shape{3, 1, 1}, s.config());
        Sequential<float> c;
        ConvOptions co;
        co.stride = Size2(2, 2);
        co.padding = Padding::same();
        c.add<Conv2D<float>>(2, Size2(3, 3), co).add<AvgPool2D<float>>(Size2(2, 2)).add<Upsample2D<float>>(Size2(2, 2), Interpolation::bilinear);
        put_config("conv", Shape{1, 8, 8}, c.config());
        Sequential<float> r;
        r.add<LSTM<float>>(3, RnnOutput::sequence).add(std::make_unique<TimeDistributed<float>>(std::make_unique<Dense<float>>(2))).add<GRU<float>>(2);
        put_config("recurrent", Shape{4, 2, 1}, r.config());
        Sequential<float> g;
        g.add<Dense<float>>(4).add<GaussianSampler<float>>().add<RepeatVector<float>>(2).add<KLSparsity<float>>(0.1, 1.0);
        put_config("sampler", Shape{3, 1, 1}, g.config());
        Sequential<float> k;
        k.add<ContractiveDense<float>>(3, 0.1).add<ActivityL1<float>>(0.01).add<GaussianNoise<float>>(0.1).add<Reshape<float>>(Shape{3, 1, 1});
        put_config("regularizers", Shape{5, 1, 1}, k.config());
    }
    return 0;
}
