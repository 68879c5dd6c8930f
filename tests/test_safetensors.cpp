// safetensors (io/safetensors.hpp): PyTorch-trained fixtures reproduce
// torch's outputs; latent's own files round-trip for every model kind and
// rebuild from their metadata; names and layouts are PyTorch's; every
// malformed file throws FormatError naming the tensor; with python3-torch,
// torch loads latent's files and computes the same outputs.
//
// The fixtures come from tests/golden/safetensors_golden.py.
#include "support.hpp"

#include <cstdlib>

#include <latent/latent.hpp>

using namespace latent;
using latent_test::contains;
using latent_test::TempDir;

namespace {

const std::string fixtures = std::string(LATENT_SOURCE_DIR) + "/tests/fixtures/";

// max |a - b| / max |b|: float32 within 1e-5 relative.
double rel_diff(const Matrix<float>& a, const Matrix<float>& b) {
    REQUIRE(a.rows() == b.rows());
    REQUIRE(a.cols() == b.cols());
    return static_cast<double>((a - b).cwiseAbs().maxCoeff() / b.cwiseAbs().maxCoeff());
}

// An io tensor (N, D) as a latent batch D x N.
Matrix<float> batch(const SafetensorsFile& io, const std::string& name) { return io.matrix<float>(name).transpose(); }

std::unique_ptr<Sequential<float>> seq() { return std::make_unique<Sequential<float>>(); }

Autoencoder<float> dense_ae() {
    auto enc = seq();
    enc->add<Dense<float>>(12).add<Activation<float>>(Act::relu).add<Dense<float>>(4);
    auto dec = seq();
    dec->add<Dense<float>>(12).add<Activation<float>>(Act::relu).add<Dense<float>>(20).add<Activation<float>>(Act::sigmoid);
    Autoencoder<float> ae(std::move(enc), std::move(dec));
    Rng rng(3);
    ae.build(Shape{20}, rng);
    return ae;
}

// torch: Conv2d(1,4,3,stride=2,padding=1) BatchNorm2d ReLU Conv2d(4,8,3,2,1) ReLU |
//        ConvTranspose2d(8,4,3,2,1,output_padding=1) BatchNorm2d ReLU ConvTranspose2d(4,1,3,2,1,1) Sigmoid
template <class S = float>
Autoencoder<S> conv_ae() {
    auto enc = std::make_unique<Sequential<S>>();
    enc->template add<Conv2D<S>>(4, Size2(3), ConvOptions::padded(1, 2))
        .template add<BatchNorm<S>>()
        .template add<Activation<S>>(Act::relu)
        .template add<Conv2D<S>>(8, Size2(3), ConvOptions::padded(1, 2))
        .template add<Activation<S>>(Act::relu);
    auto dec = std::make_unique<Sequential<S>>();
    dec->template add<ConvTranspose2D<S>>(4, Size2(3), ConvOptions::padded(1, 2, 1))
        .template add<BatchNorm<S>>()
        .template add<Activation<S>>(Act::relu)
        .template add<ConvTranspose2D<S>>(1, Size2(3), ConvOptions::padded(1, 2, 1))
        .template add<Activation<S>>(Act::sigmoid);
    Autoencoder<S> ae(std::move(enc), std::move(dec));
    Rng rng(4);
    ae.build(Shape{1, 8, 8}, rng);
    return ae;
}

VariationalAutoencoder<float> vae() {
    auto enc = seq();
    enc->add<Dense<float>>(16).add<Activation<float>>(Act::relu).add<Dense<float>>(6);
    auto dec = seq();
    dec->add<Dense<float>>(16).add<Activation<float>>(Act::relu).add<Dense<float>>(20);
    VariationalAutoencoder<float> v(std::move(enc), std::move(dec), Likelihood::bernoulli());
    Rng rng(5);
    v.build(Shape{20}, rng);
    return v;
}

SequenceAutoencoder<float> lstm_ae() {
    SequenceAutoencoderOptions o;
    o.steps = 5;
    o.features = 3;
    o.encoder_units = {4};
    Rng rng(6);
    return SequenceAutoencoder<float>(o, rng);
}

template <class M>
Vector<float> params_of(M& m) {
    return m.params().values();
}

}  // namespace

TEST_CASE("PyTorch-trained models reproduce torch's outputs", "[safetensors][golden]") {
    SECTION("dense autoencoder") {
        auto ae = dense_ae();
        load_safetensors(ae, fixtures + "torch_dense_ae.safetensors");
        const auto io = read_safetensors(fixtures + "torch_dense_ae_io.safetensors");
        const Matrix<float> x = batch(io, "x");
        CHECK(rel_diff(ae.encode(x), batch(io, "code")) <= 1e-5);
        CHECK(rel_diff(ae.reconstruct(x), batch(io, "y")) <= 1e-5);
    }
    SECTION("convolutional autoencoder with BatchNorm (running statistics)") {
        auto ae = conv_ae();
        load_safetensors(ae, fixtures + "torch_conv_ae.safetensors");
        auto* bn = dynamic_cast<BatchNorm<float>*>(&dynamic_cast<Sequential<float>&>(ae.encoder())[1]);
        REQUIRE(bn);
        CHECK(bn->running_var()(0, 0) != 1.0f);  // torch's training moved them
        const auto io = read_safetensors(fixtures + "torch_conv_ae_io.safetensors");
        const Matrix<float> x = batch(io, "x");
        CHECK(rel_diff(ae.encode(x), batch(io, "code")) <= 1e-5);
        CHECK(rel_diff(ae.reconstruct(x), batch(io, "y")) <= 1e-5);
    }
    SECTION("VAE: encoder.* gives [mu; logvar], decoder.* the logits") {
        auto v = vae();
        load_safetensors(v, fixtures + "torch_vae.safetensors");
        const auto io = read_safetensors(fixtures + "torch_vae_io.safetensors");
        const Matrix<float> x = batch(io, "x");
        const auto post = v.encode(x);
        CHECK(rel_diff(post.mu, batch(io, "mu")) <= 1e-5);
        CHECK(rel_diff(post.logvar, batch(io, "logvar")) <= 1e-5);
        CHECK(rel_diff(v.decode_output(post.mu), batch(io, "logits")) <= 1e-5);
    }
    SECTION("LSTM sequence autoencoder") {
        auto m = lstm_ae();
        load_safetensors(m, fixtures + "torch_lstm_ae.safetensors");
        const auto io = read_safetensors(fixtures + "torch_lstm_ae_io.safetensors");
        const Matrix<float> x = batch(io, "x");  // (N, T*F) time-major = our flattened sequences
        CHECK(rel_diff(m.encode(x), batch(io, "code")) <= 1e-5);
        CHECK(rel_diff(m.reconstruct(x), batch(io, "y")) <= 1e-5);
    }
}

TEST_CASE("safetensors names and shapes are PyTorch's state_dict", "[safetensors]") {
    auto ae = conv_ae();
    const auto names = torch_state_dict_shapes(ae.network().root());
    const std::vector<std::pair<std::string, std::vector<std::int64_t>>> expect = {
        {"encoder.0.weight", {4, 1, 3, 3}},   {"encoder.0.bias", {4}},          {"encoder.1.weight", {4}},
        {"encoder.1.bias", {4}},              {"encoder.1.running_mean", {4}},  {"encoder.1.running_var", {4}},
        {"encoder.1.num_batches_tracked", {}}, {"encoder.3.weight", {8, 4, 3, 3}}, {"encoder.3.bias", {8}},
        {"decoder.0.weight", {8, 4, 3, 3}},   {"decoder.0.bias", {4}},          {"decoder.1.weight", {4}},
        {"decoder.1.bias", {4}},              {"decoder.1.running_mean", {4}},  {"decoder.1.running_var", {4}},
        {"decoder.1.num_batches_tracked", {}}, {"decoder.3.weight", {4, 1, 3, 3}}, {"decoder.3.bias", {1}}};
    CHECK(names == expect);
    // the torch fixture holds exactly these tensors
    const auto f = read_safetensors(fixtures + "torch_conv_ae.safetensors");
    CHECK(f.tensors().size() == expect.size());
    for (const auto& e : expect) {
        INFO(e.first);
        REQUIRE(f.find(e.first));
        CHECK(f.find(e.first)->shape == e.second);
    }
    auto m = lstm_ae();
    const auto rnn = torch_state_dict_shapes(m.network().root());
    CHECK(rnn.front().first == "encoder.0.weight_ih_l0");
    CHECK(rnn.front().second == std::vector<std::int64_t>{16, 3});  // 4 gates i,f,g,o x H rows
    CHECK(rnn.back().first == "output.bias");                      // TimeDistributed(Dense) = a Linear
}

TEST_CASE("Dense weights are written (out, in) row-major", "[safetensors]") {
    TempDir dir("latent_st");
    auto ae = dense_ae();
    save_safetensors(ae, dir.file("ae.safetensors"));
    const auto f = read_safetensors(dir.file("ae.safetensors"));
    const auto& w = dynamic_cast<Dense<float>&>(dynamic_cast<Sequential<float>&>(ae.encoder())[0]).weight();
    const Matrix<float> m = f.matrix<float>("encoder.0.weight");  // (12, 20)
    REQUIRE(m.rows() == 12);
    CHECK(m == Matrix<float>(w));
    CHECK(f.at("encoder.0.weight").dtype == Dtype::f32);
    REQUIRE(f.metadata("latent.kind"));
    CHECK(*f.metadata("latent.kind") == "Autoencoder");
}

TEST_CASE("latent's safetensors files round-trip for every model kind", "[safetensors]") {
    TempDir dir("latent_st");
    const std::string path = dir.file("m.safetensors");
    Rng rng(9);
    SECTION("Autoencoder (dense), into a built model and rebuilt from the file") {
        auto ae = dense_ae();
        save_safetensors(ae, path);
        auto other = dense_ae();
        other.params().values().setZero();
        load_safetensors(other, path);
        CHECK(params_of(other) == params_of(ae));
        auto rebuilt = load_autoencoder_safetensors<float>(path);
        CHECK(params_of(rebuilt) == params_of(ae));
        Matrix<float> x = Matrix<float>::Random(20, 5);
        CHECK(rebuilt.reconstruct(x) == ae.reconstruct(x));
        auto net = load_network_safetensors<float>(path);
        CHECK(net.predict(x) == ae.reconstruct(x));
    }
    SECTION("convolutional autoencoder with BatchNorm, F64 on disk, double model") {
        auto ae = conv_ae<double>();
        ae.params().values().setRandom();
        SafetensorsOptions o;
        o.dtype = Dtype::f64;
        save_safetensors(ae, path, o);
        CHECK(read_safetensors(path).at("encoder.0.weight").dtype == Dtype::f64);
        auto rebuilt = load_autoencoder_safetensors<double>(path);
        CHECK(rebuilt.params().values() == ae.params().values());
        // a float model reads the F64 file, rounding
        auto f = conv_ae<float>();
        load_safetensors(f, path);
        CHECK((f.params().values().cast<double>() - ae.params().values()).cwiseAbs().maxCoeff() < 1e-6);
    }
    SECTION("VAE") {
        auto v = vae();
        v.set_beta(0.5);
        save_safetensors(v, path);
        auto rebuilt = load_vae_safetensors<float>(path);
        CHECK(params_of(rebuilt) == params_of(v));
        CHECK(rebuilt.beta() == 0.5);
        Matrix<float> x = Matrix<float>::Random(20, 4).cwiseAbs();
        CHECK(rebuilt.reconstruct(x) == v.reconstruct(x));
    }
    SECTION("SequenceAutoencoder") {
        auto m = lstm_ae();
        save_safetensors(m, path);
        auto rebuilt = load_sequence_autoencoder_safetensors<float>(path);
        CHECK(params_of(rebuilt) == params_of(m));
        auto other = lstm_ae();
        other.params().values().setZero();
        load_safetensors(other, path);
        CHECK(params_of(other) == params_of(m));
    }
    SECTION("Seq2Seq (GRU)") {
        Seq2SeqOptions o;
        o.source_steps = 4;
        o.source_features = 3;
        o.target_steps = 3;
        o.target_vocab = 5;
        o.units = 6;
        o.cell = CellType::gru;
        Seq2Seq<float> m(o, rng);
        save_safetensors(m, path);
        const auto f = read_safetensors(path);
        CHECK(f.find("encoder.weight_hh_l0"));
        CHECK(f.find("output.weight"));
        auto rebuilt = load_seq2seq_safetensors<float>(path);
        CHECK(params_of(rebuilt) == params_of(m));
        Seq2Seq<float> other(o, rng);
        load_safetensors(other, path);
        CHECK(params_of(other) == params_of(m));
    }
    SECTION("a single layer: the encoder as a feature extractor") {
        auto ae = dense_ae();
        save_safetensors(ae.encoder(), path);
        CHECK(read_safetensors(path).find("0.weight"));  // nn.Sequential's own names
        auto net = load_network_safetensors<float>(path);
        Matrix<float> x = Matrix<float>::Random(20, 3);
        CHECK(net.predict(x) == ae.encode(x));
        auto other = dense_ae();
        load_safetensors(other.encoder(), path);
        CHECK(other.encode(x) == ae.encode(x));
    }
}

TEST_CASE("safetensors loading options: extra tensors, names, dtypes", "[safetensors]") {
    TempDir dir("latent_st");
    auto ae = dense_ae();
    SECTION("prefix_map and rename map names both ways") {
        SafetensorsOptions o;
        o.prefix_map = {{"encoder.", "enc."}, {"decoder.", "dec."}};
        o.rename = [](const std::string& n) { return "model." + n; };
        save_safetensors(ae, dir.file("a.safetensors"), o);
        CHECK(read_safetensors(dir.file("a.safetensors")).find("model.enc.0.weight"));
        auto other = dense_ae();
        CHECK_THROWS_AS(load_safetensors(other, dir.file("a.safetensors")), FormatError);
        load_safetensors(other, dir.file("a.safetensors"), o);
        CHECK(params_of(other) == params_of(ae));
    }
    SECTION("extra tensors throw unless ignored") {
        auto ex = dense_ae();
        save_safetensors(ex.network().root(), dir.file("full.safetensors"));
        // the encoder alone misses decoder.* ...
        auto enc_only = seq();
        enc_only->add<Dense<float>>(12).add<Activation<float>>(Act::relu).add<Dense<float>>(4);
        Network<float> net(std::move(enc_only));
        Rng rng(1);
        net.build(Shape{20}, rng);
        SafetensorsOptions o;
        o.prefix_map = {{"", "encoder."}};
        try {
            load_safetensors(net, dir.file("full.safetensors"), o);
            FAIL("expected FormatError");
        } catch (const FormatError& e) {
            CHECK(contains(e.what(), "unexpected tensor 'decoder."));
            CHECK(contains(e.what(), "ignore_extra"));
        }
        o.ignore_extra = true;
        load_safetensors(net, dir.file("full.safetensors"), o);
        Matrix<float> x = Matrix<float>::Random(20, 2);
        CHECK(net.predict(x) == ex.encode(x));
    }
    SECTION("F16 and BF16 tensors are converted") {
        // one Dense(2) on 1 input: weight (2, 1), bias (2,)
        auto d = seq();
        d->add<Dense<float>>(2);
        Network<float> net(std::move(d));
        Rng rng(1);
        net.build(Shape{1}, rng);
        // F16 1.5 = 0x3E00, -2 = 0xC000; BF16 0.5 = 0x3F00, 3 = 0x4040
        const std::string header = R"({"0.weight":{"dtype":"F16","shape":[2,1],"data_offsets":[0,4]},)"
                                   R"("0.bias":{"dtype":"BF16","shape":[2],"data_offsets":[4,8]}})";
        std::string bytes(8, '\0');
        bytes[0] = static_cast<char>(header.size());
        bytes += header;
        const unsigned char data[] = {0x00, 0x3E, 0x00, 0xC0, 0x00, 0x3F, 0x40, 0x40};
        bytes.append(reinterpret_cast<const char*>(data), 8);
        latent_test::write_bytes(dir.file("h.safetensors"), bytes);
        load_safetensors(net, dir.file("h.safetensors"));
        const auto p = net.parameters();
        CHECK(p[0].value(0, 0) == 1.5f);
        CHECK(p[0].value(1, 0) == -2.0f);
        CHECK(p[1].value(0, 0) == 0.5f);
        CHECK(p[1].value(1, 0) == 3.0f);
        CHECK(detail::half_to_float(0x0001) == std::ldexp(1.0f, -24));  // smallest subnormal
        CHECK(std::isinf(detail::half_to_float(0x7C00)));
    }
}

namespace {

// A file from a header text and data bytes.
std::string file_bytes(const std::string& header, const std::string& data) {
    detail::ByteWriter w;
    w.u64(header.size());
    w.raw(header.data(), header.size());
    w.raw(data.data(), data.size());
    return w.buffer();
}

// The FormatError message f() throws, or "no error".
template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const FormatError& e) {
        return e.what();
    }
    return "no error";
}

std::string parse_error(const std::string& bytes) {
    return error_of([&] { SafetensorsFile::parse(bytes, "t"); });
}

}  // namespace

TEST_CASE("malformed safetensors files throw FormatError naming what is wrong", "[safetensors]") {
    const std::string t8 = R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
    const std::string data8(8, '\0');
    CHECK(parse_error(file_bytes("{" + t8 + "}", data8)) == "no error");
    CHECK(contains(parse_error("abc"), "at least 8 bytes"));
    {  // header length beyond the file, and absurd
        std::string b = file_bytes("{" + t8 + "}", data8);
        b[1] = 1;  // +256
        CHECK(contains(parse_error(b), "truncated"));
        b[1] = 0;
        b[7] = 1;
        CHECK(contains(parse_error(b), "at most 100000000"));
    }
    CHECK(contains(parse_error(file_bytes("{\"a\":", data8)), "invalid JSON"));
    CHECK(contains(parse_error(file_bytes("[1,2]", "")), "JSON object"));
    CHECK(contains(parse_error(file_bytes("{" + t8 + "," + t8 + "}", data8)), "duplicate member name \"a\""));
    CHECK(contains(parse_error(file_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}})", data8)), "found 'x'"));
    CHECK(contains(parse_error(file_bytes(R"({"a":{"dtype":"Q8","shape":[2],"data_offsets":[0,8]}})", data8)), "found 'Q8'"));
    CHECK(contains(parse_error(file_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}})", data8)), "run past"));
    CHECK(contains(parse_error(file_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}})", data8)), "needs 4 bytes"));
    CHECK(contains(parse_error(file_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", data8)), "begin <= end"));
    CHECK(contains(parse_error(file_bytes(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", data8)), "integers in [0, 2^53]"));
    CHECK(contains(parse_error(file_bytes(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", data8)),
                   "more bytes than the file holds"));
    CHECK(contains(parse_error(file_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[2,6]},)"
                                          R"("b":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"c":{"dtype":"U8","shape":[2],"data_offsets":[6,8]}})",
                                          data8)),
                   "aligned"));
    CHECK(contains(parse_error(file_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                          R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                                          data8)),
                   "overlaps tensor 'a'"));
    CHECK(contains(parse_error(file_bytes(R"({"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", data8)), "no holes"));
    CHECK(contains(parse_error(file_bytes("{" + t8 + "}", data8 + "xx")), "expected 8 bytes of tensor data"));
    CHECK(contains(parse_error(file_bytes(R"({"__metadata__":{"k":1}})", "")), "to be a string"));

    TempDir dir("latent_st");
    auto ae = dense_ae();
    const Vector<float> before = params_of(ae);
    const auto load_error = [&](const std::string& header, const std::string& data) {
        latent_test::write_bytes(dir.file("bad.safetensors"), file_bytes(header, data));
        return error_of([&] { load_safetensors(ae, dir.file("bad.safetensors")); });
    };
    SECTION("wrong shape for a slot names the tensor and both shapes; the model is unchanged") {
        save_safetensors(ae, dir.file("good.safetensors"));
        std::string b = latent_test::read_bytes(dir.file("good.safetensors"));
        const std::string from = R"("encoder.0.weight":{"dtype":"F32","shape":[12,20])";
        const auto at = b.find(from);
        REQUIRE(at != std::string::npos);
        b.replace(at, from.size(), R"("encoder.0.weight":{"dtype":"F32","shape":[20,12])");
        latent_test::write_bytes(dir.file("bad.safetensors"), b);
        try {
            load_safetensors(ae, dir.file("bad.safetensors"));
            FAIL("expected FormatError");
        } catch (const FormatError& e) {
            CHECK(contains(e.what(), "tensor 'encoder.0.weight': expected shape (12, 20), found (20, 12)"));
        }
        CHECK(params_of(ae) == before);
    }
    SECTION("missing tensors and wrong dtypes") {
        const std::string msg = load_error(R"({"encoder.0.weight":{"dtype":"F32","shape":[12,20],"data_offsets":[0,960]}})", std::string(960, '\0'));
        CHECK(contains(msg, "missing tensor 'encoder.0.bias' (expected shape (12,))"));
        CHECK(contains(msg, "7 of the model's 8 tensors are missing"));
        save_safetensors(ae, dir.file("good.safetensors"));
        std::string b = latent_test::read_bytes(dir.file("good.safetensors"));
        const auto at = b.find(R"("encoder.0.bias":{"dtype":"F32")");
        REQUIRE(at != std::string::npos);
        b.replace(at, 31, R"("encoder.0.bias":{"dtype":"I32")");
        latent_test::write_bytes(dir.file("bad.safetensors"), b);
        CHECK(contains(error_of([&] { load_safetensors(ae, dir.file("bad.safetensors")); }),
                       "tensor 'encoder.0.bias': expected a float dtype (F16, BF16, F32 or F64), found I32"));
        CHECK(params_of(ae) == before);
    }
    SECTION("a torch file has no architecture to rebuild from") {
        CHECK(contains(error_of([&] { load_autoencoder_safetensors<float>(fixtures + "torch_dense_ae.safetensors"); }),
                       "build the model in code"));
        save_safetensors(ae, dir.file("ae.safetensors"));
        CHECK(contains(error_of([&] { load_vae_safetensors<float>(dir.file("ae.safetensors")); }), "expected a VariationalAutoencoder"));
    }
}

TEST_CASE("PyTorch loads latent-written files and computes the same outputs", "[safetensors][torch]") {
    if (std::system("OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -c 'import torch, numpy' > /dev/null 2>&1") != 0) {
        WARN("SKIPPED: /usr/bin/python3 cannot import torch and numpy (install python3-torch); latent -> torch not checked");
        return;
    }
    TempDir dir("latent_st_torch");
    const std::string script = std::string(LATENT_SOURCE_DIR) + "/tests/golden/torch_check.py";
    // Saves the model and (x, latent's y) as .npy, runs torch on them, then
    // loads torch's re-saved state_dict back and compares the parameters.
    const auto check = [&](const std::string& name, auto& model, const Matrix<float>& x, const Matrix<float>& y, auto load_back) {
        save_safetensors(model, dir.file(name + ".safetensors"));
        save_npy(dir.file(name + "_x.npy"), x);
        save_npy(dir.file(name + "_y.npy"), y);
        const std::string cmd = "OPENBLAS_NUM_THREADS=1 /usr/bin/python3 " + script + " " + dir.file(name + ".safetensors") + " " +
                                dir.file(name + "_x.npy") + " " + dir.file(name + "_y.npy") + " " + dir.file(name + "_torch.safetensors");
        INFO(cmd);
        REQUIRE(std::system(cmd.c_str()) == 0);
        auto back = load_back(dir.file(name + "_torch.safetensors"));
        CHECK(params_of(back) == params_of(model));
    };
    Rng rng(2);
    {
        auto ae = dense_ae();
        const Matrix<float> x = Matrix<float>::Random(20, 9).cwiseAbs();
        check("dense", ae, x, ae.reconstruct(x), [](const std::string& p) { return load_autoencoder_safetensors<float>(p); });
    }
    {
        auto ae = conv_ae();
        ae.params().values().setRandom();  // running statistics too
        for (auto& p : ae.network().params().slots())
            if (p.name.find("running_var") != std::string::npos) p.slot->w() = p.slot->w().cwiseAbs();
        const Matrix<float> x = Matrix<float>::Random(64, 5);
        check("conv", ae, x, ae.reconstruct(x), [](const std::string& p) { return load_autoencoder_safetensors<float>(p); });
    }
    {
        auto v = vae();
        const Matrix<float> x = Matrix<float>::Random(20, 6).cwiseAbs();
        check("vae", v, x, v.decode_output(v.encode_mean(x)), [](const std::string& p) { return load_vae_safetensors<float>(p); });
    }
    {
        auto m = lstm_ae();
        const Matrix<float> x = Matrix<float>::Random(15, 4);
        check("lstm", m, x, m.reconstruct(x), [](const std::string& p) { return load_sequence_autoencoder_safetensors<float>(p); });
    }
}
