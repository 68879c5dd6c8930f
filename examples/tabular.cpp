// tabular: autoencoders on tables, through latent::TableSchema (numeric
// columns standardized, categorical ones one-hot, missing cells masked) and
// latent::MixedColumnLoss (squared error on numbers, softmax cross-entropy on
// each category block), against the usual baselines. Three experiments,
// each repeated over --repeats seeds (mean ± sample std):
//
//  1. anomaly detection on breast cancer: train on benign tumours, test on
//     held-out benign ones plus malignant ones subsampled to --anomaly-rate;
//     ROC AUC of the AE's reconstruction error vs PCA reconstruction error,
//     the distance to the k-th nearest training row and the mean |z-score|.
//  2. imputation on breast cancer, wine and diabetes: --missing of the test
//     rows' cells hidden at random; RMSE over the hidden cells in
//     standardized units, AE imputer vs training mean vs kNN.
//  3. a synthetic mixed table generated here (4 numeric, 3 categorical
//     columns that depend on each other) with injected anomalies of three
//     kinds, two of them anomalous only in a category combination: ROC AUC
//     AE vs PCA and kNN on the same encoding; then categorical imputation
//     accuracy AE vs mode vs kNN, and numeric RMSE AE vs mean vs kNN.
//
// Data: the CSVs shipped with Debian's python3-sklearn (--data DIR). Their
// first line is not a header but "n_samples,n_features,class names..."
// (diabetes_data_raw.csv.gz has none and is space-separated): it is
// checked against what is read and skipped. Without those files the real
// tables are reported absent and only experiment 3 runs.
#include "common/common.hpp"

#include <latent/apps/anomaly.hpp>
#include <latent/apps/imputer.hpp>
#include <latent/apps/latent_index.hpp>
#include <latent/apps/pca.hpp>
#include <latent/data/table.hpp>
#include <latent/losses/mixed_column_loss.hpp>
#include <latent/metrics/ranking.hpp>

#include <fstream>
#include <map>
#include <numeric>

namespace {

using Mat = latent::Matrix<float>;
using Vec = latent::Vector<float>;
using latent::Index;

// ---------------------------------------------------------------- data

struct LabelledTable {
    std::string name;
    latent::CsvCells cells;     // features (and the label column, if any)
    std::string label_column;   // "" when the table has no label
    std::vector<int> labels;    // per row, when label_column is set
};

// An sklearn CSV: a first line "n_samples,n_features,names..." (checked),
// then headerless rows of n_features values and an integer class.
LabelledTable read_sklearn_labelled(const std::string& dir, const std::string& file, const std::string& name) {
    const std::string path = dir + "/" + file;
    std::ifstream in(path);
    std::string first;
    if (!in || !std::getline(in, first)) throw latent::DataError("cannot read '" + path + "'");
    const latent::CsvCells meta = latent::parse_csv_cells(first, latent::CsvOptions{',', latent::CsvHeader::absent}, "'" + path + "'");
    double n_rows = 0, n_features = 0;
    if (meta.width() < 2 || !latent::detail::parse_number(meta.rows[0][0], n_rows) || !latent::detail::parse_number(meta.rows[0][1], n_features))
        throw latent::DataError("'" + path + "': line 1: expected 'n_samples,n_features,class names...', found '" + first + "'");
    latent::TableOptions o;
    o.csv.header = latent::CsvHeader::absent;
    o.csv.skip_lines = 1;
    LabelledTable t;
    t.name = name;
    t.cells = latent::read_table(path, o);
    if (t.cells.size() != static_cast<Index>(n_rows) || t.cells.width() != static_cast<Index>(n_features) + 1)
        throw latent::DataError("'" + path + "': line 1 announces " + first + " (rows, features + a label column), found " +
                                std::to_string(t.cells.size()) + " rows of " + std::to_string(t.cells.width()) + " fields");
    t.label_column = t.cells.columns.back();
    for (Index r = 0; r < t.cells.size(); ++r) {
        double v;
        if (!latent::detail::parse_number(t.cells.rows[static_cast<std::size_t>(r)].back(), v))
            throw latent::DataError(t.cells.where(r, t.cells.width() - 1) + ": expected an integer class label, found '" +
                                    t.cells.rows[static_cast<std::size_t>(r)].back() + "'");
        t.labels.push_back(static_cast<int>(v));
    }
    return t;
}

// diabetes_data_raw.csv.gz: 442 rows of 10 space-separated numbers, no header.
LabelledTable read_sklearn_diabetes(const std::string& dir) {
    latent::TableOptions o;
    o.csv.header = latent::CsvHeader::absent;
    o.csv.delimiter = ' ';
    LabelledTable t;
    t.name = "diabetes";
    t.cells = latent::read_table(dir + "/diabetes_data_raw.csv.gz", o);
    if (t.cells.width() != 10)
        throw latent::DataError("diabetes_data_raw.csv.gz: expected 10 columns (age, sex, bmi, bp, s1..s6), found " + std::to_string(t.cells.width()));
    return t;
}

latent::CsvCells subset(const latent::CsvCells& c, const std::vector<Index>& rows) {
    latent::CsvCells out;
    out.columns = c.columns;
    out.header = c.header;
    out.source = c.source;
    for (Index r : rows) {
        out.rows.push_back(c.rows[static_cast<std::size_t>(r)]);
        out.lines.push_back(c.lines[static_cast<std::size_t>(r)]);
    }
    return out;
}

std::vector<Index> shuffled(Index n, latent::Rng& rng) {
    std::vector<Index> p(static_cast<std::size_t>(n));
    std::iota(p.begin(), p.end(), Index{0});
    for (std::size_t i = p.size(); i > 1; --i) std::swap(p[i - 1], p[static_cast<std::size_t>(rng.below(i))]);
    return p;
}

// The synthetic mixed table. Normal rows: latent u, v ~ N(0, 1);
//   x1 = u + 0.3 e          A (3) = tercile of u (10% of rows: a random A)
//   x2 = 0.7 u + 0.7 v + 0.3 e
//   B (4) = 2 [v > 0] + [A == 2] (5%: random)
//   x3 = v + 1.5 [B odd] + 0.3 e
//   C (2) = [x2 > 0] (10%: flipped)
//   x4 = x1 x2 + 0.3 e
// Anomalies (kind 1..3): 1 "numeric": x1 = -x1 (|x1| typical, sign against
// A, x2 and x4); 2 "B|A,v": B set to a value its A and v never give;
// 3 "A|u": A set to a tercile u is not in. Kinds 2 and 3 change only a
// category: every number and every single category's frequency is normal.
struct Mixed {
    latent::CsvCells cells;
    std::vector<int> kind;  // 0 normal, 1..3 anomaly kind
};

Mixed make_mixed(Index n_normal, Index n_anomalies, latent::Rng& rng) {
    Mixed m;
    m.cells.columns = {"x1", "x2", "x3", "x4", "A", "B", "C"};
    m.cells.source = "synthetic mixed table";
    const char* a_names[] = {"a0", "a1", "a2"};
    const char* b_names[] = {"b0", "b1", "b2", "b3"};
    const char* c_names[] = {"no", "yes"};
    auto cell = [](double v) { return latent::detail::format_number(v, 6); };
    for (Index r = 0; r < n_normal + n_anomalies; ++r) {
        const int kind = r < n_normal ? 0 : 1 + static_cast<int>((r - n_normal) % 3);
        const double u = rng.normal(), v = rng.normal();
        double x1 = u + 0.3 * rng.normal();
        const double x2 = 0.7 * u + 0.7 * v + 0.3 * rng.normal();
        int a = u < -0.43 ? 0 : u < 0.43 ? 1 : 2;  // terciles of N(0, 1)
        if (rng.bernoulli(0.1)) a = static_cast<int>(rng.below(3));
        int b = 2 * (v > 0) + (a == 2);
        if (rng.bernoulli(0.05)) b = static_cast<int>(rng.below(4));
        const double x3 = v + 1.5 * (b % 2) + 0.3 * rng.normal();
        int c = x2 > 0;
        if (rng.bernoulli(0.1)) c = 1 - c;
        const double x4 = x1 * x2 + 0.3 * rng.normal();
        if (kind == 1) x1 = -x1;
        if (kind == 2) b = 2 * (v <= 0) + (a == 2);  // the other v half: a combination normal rows give only by noise
        if (kind == 3) {
            const int true_a = u < -0.43 ? 0 : u < 0.43 ? 1 : 2;
            a = true_a == 1 ? (rng.bernoulli(0.5) ? 0 : 2) : 2 - true_a;  // a tercile u is not in (the far one for the outer two)
        }
        m.cells.rows.push_back({cell(x1), cell(x2), cell(x3), cell(x4), a_names[a], b_names[b], c_names[c]});
        m.cells.lines.push_back(r + 2);
        m.kind.push_back(kind);
    }
    return m;
}

// ---------------------------------------------------------------- methods

struct Settings {
    long epochs = 150;
    Index batch = 32;
    double lr = 2e-3;
    Index code = 4, pca = 6, knn = 1, knn_impute = 10;
    std::vector<Index> hidden = {32, 16};
    bool balance = true;
    std::uint64_t seed = 42;
    bool progress = true;
};

// A dense autoencoder trained as a MixedColumnLoss anomaly detector on the
// first 80% of x (E x N); the last 20% (held-out normal rows) set the
// scoring weights when `balance` (balanced_columns: each column's error in
// units of its typical held-out error).
latent::AnomalyDetector<float> train_detector(const Mat& x, const latent::TableSchema& schema, const Settings& s, std::uint64_t seed) {
    const Index n_val = s.balance ? x.cols() / 5 : 0;
    const Mat train = x.leftCols(x.cols() - n_val), val = x.rightCols(n_val);
    latent::DenseAutoencoderOptions o;
    o.sizes = {x.rows()};
    for (Index h : s.hidden) o.sizes.push_back(h);
    o.sizes.push_back(s.code);
    o.output = latent::Act::identity;  // numbers and logits
    latent::Rng rng(seed);
    latent::AnomalyDetector<float> det(latent::make_dense_autoencoder<float>(o, rng));
    auto loss = std::make_unique<latent::MixedColumnLoss<float>>(schema.loss_columns());
    det.model().set_loss(std::move(loss));
    latent::Adam<float> adam(s.lr);
    latent::FitOptions<float> fo;
    fo.epochs = s.epochs;
    fo.batch_size = s.batch;
    fo.seed = seed + 1;
    fo.progress = s.progress;
    fo.print_epochs = false;
    det.fit(train, adam, fo);
    if (s.balance) {
        const auto& trained = static_cast<const latent::MixedColumnLoss<float>&>(det.model().loss());
        det.model().set_loss(
            std::make_unique<latent::MixedColumnLoss<float>>(latent::balanced_columns(trained, det.model().reconstruct(val), val)));
    }
    return det;
}

Vec pca_scores(const Mat& train, const Mat& test, Index k) {
    latent::PCA<float> pca(std::min<Index>(k, train.rows()));
    pca.fit(train);
    return (pca.inverse_transform(pca.transform(test)) - test).colwise().squaredNorm().transpose();
}

Vec knn_scores(const Mat& train, const Mat& test, Index k) {
    latent::VectorIndex<float> index;
    index.add(train);
    return index.search(test, k).distances.row(k - 1).transpose();
}

// Mean |z| over the features (test standardized with the training statistics already).
Vec zscore_scores(const Mat& test) { return test.array().abs().colwise().mean().transpose(); }

double rmse_hidden(const Mat& filled, const Mat& truth, const std::vector<std::pair<Index, Index>>& cells) {
    double se = 0;
    for (const auto& c : cells) se += std::pow(static_cast<double>(filled(c.first, c.second) - truth(c.first, c.second)), 2);
    return cells.empty() ? std::nan("") : std::sqrt(se / static_cast<double>(cells.size()));
}

// ---------------------------------------------------------------- results

// Runs of one metric for one table and method; printed as mean ± sample std.
struct Runs {
    std::vector<double> v;
    double mean() const { return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size()); }
    double sd() const {
        if (v.size() < 2) return 0;
        double ss = 0;
        for (double x : v) ss += (x - mean()) * (x - mean());
        return std::sqrt(ss / static_cast<double>(v.size() - 1));
    }
    std::string str(int precision = 3) const { return v.empty() ? "-" : ex::num(mean(), precision) + " ± " + ex::num(sd(), precision); }
    ex::Json json() const { return ex::Json().set("mean", mean()).set("sd", sd()).set("runs", v); }
};

// metric -> table -> method -> runs, in insertion order for printing.
struct Results {
    std::map<std::string, std::vector<std::string>> tables;  // metric -> table names in order
    std::map<std::string, std::map<std::string, std::map<std::string, Runs>>> r;
    void add(const std::string& metric, const std::string& table, const std::string& method, double v) {
        auto& t = tables[metric];
        if (std::find(t.begin(), t.end(), table) == t.end()) t.push_back(table);
        r[metric][table][method].v.push_back(v);
    }
    void print(const std::string& metric, const std::vector<std::string>& methods, const std::string& title) const {
        const auto it = r.find(metric);
        if (it == r.end()) return;
        std::vector<std::string> header = {"table"};
        for (const auto& m : methods) header.push_back(m);
        ex::Table tab(header);
        for (const auto& name : tables.at(metric)) {
            std::vector<std::string> row = {name};
            const auto& per = it->second.at(name);
            for (const auto& m : methods) row.push_back(per.count(m) ? per.at(m).str() : "-");
            tab.row(row);
        }
        std::cout << '\n' << title << '\n';
        tab.print();
    }
    ex::Json json(const std::string& metric) const {
        ex::Json j;
        const auto it = r.find(metric);
        if (it == r.end()) return j;
        for (const auto& name : tables.at(metric)) {
            ex::Json t;
            for (const auto& m : it->second.at(name)) t.set(m.first, m.second.json());
            j.set(name, t);
        }
        return j;
    }
};

// ---------------------------------------------------------------- experiments

// Hides `rate` of the cells of t (whole categorical blocks) in place of its
// mask; returns the hidden (row, sample) entries that are numeric and the
// hidden (column, sample) cells that are categorical.
struct Hidden {
    latent::EncodedTable<float> holes;
    std::vector<std::pair<Index, Index>> numeric;      // (encoded row, sample)
    std::vector<std::pair<std::size_t, Index>> categorical;  // (column, sample)
};

Hidden hide_test_cells(const latent::EncodedTable<float>& t, const latent::TableSchema& schema, double rate, latent::Rng& rng) {
    Hidden h;
    h.holes = t;
    for (Index j = 0; j < t.rows(); ++j) {
        for (std::size_t c = 0; c < schema.columns().size(); ++c) {
            const auto& col = schema.columns()[c];
            if (!rng.bernoulli(rate)) continue;
            h.holes.mask.col(j).segment(col.offset, col.width()).setZero();
            h.holes.data.col(j).segment(col.offset, col.width()).setZero();
            if (col.kind == latent::ColumnKind::numeric)
                h.numeric.emplace_back(col.offset, j);
            else
                h.categorical.emplace_back(c, j);
        }
        if (h.holes.mask.col(j).isZero(0)) {  // keep one cell: the imputers need something observed
            const auto& col = schema.columns()[0];
            h.holes.mask.col(j).segment(col.offset, col.width()) = t.mask.col(j).segment(col.offset, col.width());
            h.holes.data.col(j).segment(col.offset, col.width()) = t.data.col(j).segment(col.offset, col.width());
            if (!h.numeric.empty() && h.numeric.back() == std::make_pair(col.offset, j)) h.numeric.pop_back();
            if (!h.categorical.empty() && h.categorical.back() == std::make_pair(std::size_t{0}, j)) h.categorical.pop_back();
        }
    }
    return h;
}

latent::Imputer<float> train_imputer(const Mat& train_nan, const latent::TableSchema& schema, const Settings& s, std::uint64_t seed) {
    latent::ImputerOptions o;
    o.hidden = {64, 32};
    o.epochs = s.epochs;
    o.batch_size = s.batch;
    o.learning_rate = s.lr;
    o.drop_rate = 0.3;
    o.seed = seed;
    o.progress = s.progress;
    latent::Imputer<float> imp = latent::make_table_imputer<float>(schema, o);
    imp.fit(train_nan);
    return imp;
}

// Anomaly score of a masked-cell autoencoder (the table imputer): each
// column hidden in turn and predicted from the others
// (latent::masked_column_errors); the score sums the columns' losses, each
// in units of its mean on held-out normal rows.
Vec masked_cell_scores(latent::Imputer<float>& imp, const latent::TableSchema& schema, const Mat& x, const Mat& val) {
    const Mat typical = latent::masked_column_errors(imp, schema, val).rowwise().mean();
    const Mat e = latent::masked_column_errors(imp, schema, x);
    return (typical.array().max(1e-12f).inverse().matrix().asDiagonal() * e).colwise().sum().transpose();
}

void anomaly_breast_cancer(const LabelledTable& bc, double anomaly_rate, const Settings& s, std::uint64_t seed, Results& res) {
    latent::Rng rng(seed);
    std::vector<Index> benign, malignant;
    for (Index r = 0; r < bc.cells.size(); ++r) (bc.labels[static_cast<std::size_t>(r)] == 1 ? benign : malignant).push_back(r);
    const auto pb = shuffled(static_cast<Index>(benign.size()), rng), pm = shuffled(static_cast<Index>(malignant.size()), rng);
    const Index n_train = static_cast<Index>(0.7 * static_cast<double>(benign.size()));
    const Index n_test_benign = static_cast<Index>(benign.size()) - n_train;
    const auto n_anom = static_cast<Index>(std::lround(anomaly_rate / (1 - anomaly_rate) * static_cast<double>(n_test_benign)));
    std::vector<Index> train_rows, test_rows;
    std::vector<int> labels;
    for (Index i = 0; i < static_cast<Index>(pb.size()); ++i) {
        const Index row = benign[static_cast<std::size_t>(pb[static_cast<std::size_t>(i)])];
        if (i < n_train) {
            train_rows.push_back(row);
        } else {
            test_rows.push_back(row);
            labels.push_back(0);
        }
    }
    for (Index i = 0; i < std::min<Index>(n_anom, static_cast<Index>(malignant.size())); ++i) {
        test_rows.push_back(malignant[static_cast<std::size_t>(pm[static_cast<std::size_t>(i)])]);
        labels.push_back(1);
    }
    latent::TableOptions o;
    o.drop = {bc.label_column};
    const latent::CsvCells train_cells = subset(bc.cells, train_rows);
    const latent::TableSchema schema = latent::TableSchema::fit(train_cells, o);
    const Mat train = schema.encode<float>(train_cells).data, test = schema.encode<float>(subset(bc.cells, test_rows)).data;

    latent::AnomalyDetector<float> det = train_detector(train, schema, s, seed);
    const Index n_val = train.cols() / 5;
    latent::Imputer<float> masked_ae = train_imputer(train.leftCols(train.cols() - n_val), schema, s, seed + 7);
    const double ae_masked = latent::roc_auc(masked_cell_scores(masked_ae, schema, test, train.rightCols(n_val)), labels);
    res.add("anomaly_roc_auc", "breast_cancer", "ae_masked", ae_masked);
    const double ae = latent::roc_auc(det.score(test), labels), pca = latent::roc_auc(pca_scores(train, test, s.pca), labels),
                 knn = latent::roc_auc(knn_scores(train, test, s.knn), labels), z = latent::roc_auc(zscore_scores(test), labels);
    res.add("anomaly_roc_auc", "breast_cancer", "ae", ae);
    res.add("anomaly_roc_auc", "breast_cancer", "pca", pca);
    res.add("anomaly_roc_auc", "breast_cancer", "knn", knn);
    res.add("anomaly_roc_auc", "breast_cancer", "zscore", z);
    std::cerr << "  breast_cancer anomaly (" << train.cols() << " benign train; test " << n_test_benign << " benign + " << n_anom
              << " malignant): AUC AE " << ex::num(ae, 3) << ", masked-cell AE " << ex::num(ae_masked, 3) << ", PCA " << ex::num(pca, 3) << ", kNN " << ex::num(knn, 3) << ", z "
              << ex::num(z, 3) << "\n";
}

void imputation_real(const LabelledTable& t, double rate, const Settings& s, std::uint64_t seed, Results& res) {
    latent::Rng rng(seed + 101);
    const auto perm = shuffled(t.cells.size(), rng);
    const Index n_train = static_cast<Index>(0.7 * static_cast<double>(perm.size()));
    const std::vector<Index> train_rows(perm.begin(), perm.begin() + n_train), test_rows(perm.begin() + n_train, perm.end());
    latent::TableOptions o;
    if (!t.label_column.empty()) o.drop = {t.label_column};
    const latent::CsvCells train_cells = subset(t.cells, train_rows);
    const latent::TableSchema schema = latent::TableSchema::fit(train_cells, o);
    const latent::EncodedTable<float> train = schema.encode<float>(train_cells), test = schema.encode<float>(subset(t.cells, test_rows));
    const Hidden h = hide_test_cells(test, schema, rate, rng);
    const Mat holes = h.holes.with_nan();

    latent::Imputer<float> imp = train_imputer(train.with_nan(), schema, s, seed);
    const double ae = rmse_hidden(imp.impute(holes), test.data, h.numeric);
    const double mean = rmse_hidden(latent::mean_impute(holes, latent::observed_means(train.with_nan())), test.data, h.numeric);
    const double knn = rmse_hidden(latent::knn_impute(holes, train.data, s.knn_impute), test.data, h.numeric);
    res.add("imputation_rmse", t.name, "ae", ae);
    res.add("imputation_rmse", t.name, "mean", mean);
    res.add("imputation_rmse", t.name, "knn", knn);
    std::cerr << "  " << t.name << " imputation (" << train.rows() << " train rows, " << h.numeric.size() << " hidden cells): RMSE AE "
              << ex::num(ae, 3) << ", mean " << ex::num(mean, 3) << ", kNN " << ex::num(knn, 3) << "\n";
}

void mixed_experiments(Index n_train, Index n_test, double anomaly_rate, double missing, const Settings& s, std::uint64_t seed,
                       Results& res) {
    latent::Rng rng(seed + 202);
    const Mixed train_t = make_mixed(n_train, 0, rng);
    const auto n_anom = static_cast<Index>(std::lround(anomaly_rate * static_cast<double>(n_test)));
    const Mixed test_t = make_mixed(n_test - n_anom, n_anom, rng);
    const latent::TableSchema schema = latent::TableSchema::fit(train_t.cells);
    const latent::EncodedTable<float> train = schema.encode<float>(train_t.cells), test = schema.encode<float>(test_t.cells);

    // anomalies
    latent::AnomalyDetector<float> det = train_detector(train.data, schema, s, seed);
    const Vec ae = det.score(test.data), pca = pca_scores(train.data, test.data, s.pca), knn = knn_scores(train.data, test.data, s.knn);
    std::vector<int> labels;
    for (int k : test_t.kind) labels.push_back(k > 0);
    const std::string table = "mixed_synthetic";
    res.add("anomaly_roc_auc", table, "ae", latent::roc_auc(ae, labels));
    res.add("anomaly_roc_auc", table, "pca", latent::roc_auc(pca, labels));
    res.add("anomaly_roc_auc", table, "knn", latent::roc_auc(knn, labels));
    const Index n_val = train.rows() / 5;
    latent::Imputer<float> masked_ae = train_imputer(train.with_nan().leftCols(train.rows() - n_val), schema, s, seed + 7);
    const Vec ae_masked = masked_cell_scores(masked_ae, schema, test.data, train.data.rightCols(n_val));
    res.add("anomaly_roc_auc", table, "ae_masked", latent::roc_auc(ae_masked, labels));
    const char* kinds[] = {"", "numeric sign", "category B|A,v", "category A|u"};
    for (int k = 1; k <= 3; ++k) {  // normals against one kind
        std::vector<Index> idx;
        std::vector<int> lab;
        for (std::size_t i = 0; i < test_t.kind.size(); ++i)
            if (test_t.kind[i] == 0 || test_t.kind[i] == k) {
                idx.push_back(static_cast<Index>(i));
                lab.push_back(test_t.kind[i] > 0);
            }
        auto pick = [&](const Vec& v) {
            Vec out(static_cast<Index>(idx.size()));
            for (std::size_t i = 0; i < idx.size(); ++i) out(static_cast<Index>(i)) = v(idx[i]);
            return out;
        };
        const std::string name = table + " (" + kinds[k] + ")";
        res.add("anomaly_roc_auc_by_kind", name, "ae", latent::roc_auc(pick(ae), lab));
        res.add("anomaly_roc_auc_by_kind", name, "pca", latent::roc_auc(pick(pca), lab));
        res.add("anomaly_roc_auc_by_kind", name, "knn", latent::roc_auc(pick(knn), lab));
        res.add("anomaly_roc_auc_by_kind", name, "ae_masked", latent::roc_auc(pick(ae_masked), lab));
    }
    std::cerr << "  mixed anomaly (" << n_train << " train; test " << n_test - n_anom << " normal + " << n_anom << " anomalies): AUC AE "
              << ex::num(latent::roc_auc(ae, labels), 3) << ", PCA " << ex::num(latent::roc_auc(pca, labels), 3) << ", kNN "
              << ex::num(latent::roc_auc(knn, labels), 3) << ", masked-cell AE " << ex::num(latent::roc_auc(ae_masked, labels), 3) << "\n";

    // imputation on the normal test rows
    std::vector<Index> normal_rows;
    for (std::size_t i = 0; i < test_t.kind.size(); ++i)
        if (test_t.kind[i] == 0) normal_rows.push_back(static_cast<Index>(i));
    const latent::EncodedTable<float> clean = schema.encode<float>(subset(test_t.cells, normal_rows));
    const Hidden h = hide_test_cells(clean, schema, missing, rng);
    const Mat holes = h.holes.with_nan();
    const Mat by_ae = masked_ae.impute(holes), by_knn = latent::knn_impute(holes, train.data, s.knn_impute);
    res.add("imputation_rmse", table + " (numeric cells)", "ae", rmse_hidden(by_ae, clean.data, h.numeric));
    res.add("imputation_rmse", table + " (numeric cells)", "mean",
            rmse_hidden(latent::mean_impute(holes, latent::observed_means(train.with_nan())), clean.data, h.numeric));
    res.add("imputation_rmse", table + " (numeric cells)", "knn", rmse_hidden(by_knn, clean.data, h.numeric));
    // categorical: AE and kNN by arg-max of the filled block; mode = the most frequent training category
    Index right_ae = 0, right_knn = 0, right_mode = 0;
    std::vector<std::vector<Index>> ae_cat, knn_cat, truth_cat;
    std::vector<Index> mode;
    for (std::size_t c = 0; c < schema.columns().size(); ++c) {
        const auto& col = schema.columns()[c];
        if (col.kind != latent::ColumnKind::categorical) {
            ae_cat.emplace_back();
            knn_cat.emplace_back();
            truth_cat.emplace_back();
            mode.push_back(-1);
            continue;
        }
        ae_cat.push_back(schema.categories_of(by_ae, c));
        knn_cat.push_back(schema.categories_of(by_knn, c));
        truth_cat.push_back(schema.categories_of(clean.data, c));
        Index m = 0;
        train.data.middleRows(col.offset, col.width()).rowwise().sum().maxCoeff(&m);
        mode.push_back(m);
    }
    for (const auto& cell : h.categorical) {
        const auto c = cell.first;
        const auto j = static_cast<std::size_t>(cell.second);
        right_ae += ae_cat[c][j] == truth_cat[c][j];
        right_knn += knn_cat[c][j] == truth_cat[c][j];
        right_mode += mode[c] == truth_cat[c][j];
    }
    const double n = static_cast<double>(h.categorical.size());
    res.add("categorical_accuracy", table, "ae", static_cast<double>(right_ae) / n);
    res.add("categorical_accuracy", table, "mode", static_cast<double>(right_mode) / n);
    res.add("categorical_accuracy", table, "knn", static_cast<double>(right_knn) / n);
    std::cerr << "  mixed imputation (" << h.categorical.size() << " hidden categories): accuracy AE " << ex::num(right_ae / n, 3) << ", mode "
              << ex::num(right_mode / n, 3) << ", kNN " << ex::num(right_knn / n, 3) << "\n";
}

std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
    return "unknown";
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Tabular autoencoders (TableSchema + MixedColumnLoss): anomaly detection and imputation on sklearn's tables and a "
                 "synthetic mixed-type table, against PCA, kNN, z-score, mean and mode baselines"};
    ex::CommonFlags flags;
    flags.data = "/usr/lib/python3/dist-packages/sklearn/datasets/data";
    flags.epochs = 150;
    Settings s;
    Index repeats = 10, mixed_train = 2000, mixed_test = 1000;
    double anomaly_rate = 0.1, missing = 0.2;
    app.add_option("--data", flags.data, "Directory with sklearn's breast_cancer.csv, wine_data.csv, diabetes_data_raw.csv.gz (python3-sklearn)")
        ->capture_default_str();
    app.add_option("--epochs", flags.epochs, "Training epochs of every autoencoder")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--batch", s.batch, "Mini-batch size")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--seed", flags.seed, "First random seed (splits, hidden cells, synthetic data, init); repeat r uses seed + r")
        ->capture_default_str();
    app.add_option("--threads", flags.threads, "Threads for matrix products (needs OpenMP for > 1)")->capture_default_str()->check(CLI::Range(1, 1024));
    app.add_option("--json", flags.json, "Write the metrics as JSON to this file");
    app.add_option("--repeats", repeats, "Seeds each experiment is repeated over (mean ± sample std)")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--lr", s.lr, "Adam learning rate")->capture_default_str();
    std::string hidden = "32,16";
    app.add_flag("--balance,!--no-balance", s.balance,
                 "AE anomaly scores: each column's error divided by its mean on held-out normal rows (balanced_columns)")
        ->capture_default_str();
    app.add_option("--hidden", hidden, "Anomaly autoencoders' encoder widths before the code (the decoder mirrors them)")->capture_default_str();
    app.add_option("--code", s.code, "Anomaly autoencoders' code size")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--pca", s.pca, "Baseline: PCA components")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--knn", s.knn, "Baseline: anomaly score = distance to the k-th nearest training row")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--knn-impute", s.knn_impute, "Baseline: kNN imputation averages this many rows")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--anomaly-rate", anomaly_rate, "Fraction of anomalies in the anomaly test sets")->capture_default_str()->check(CLI::Range(0.01, 0.5));
    app.add_option("--missing", missing, "Fraction of test cells hidden for imputation")->capture_default_str()->check(CLI::Range(0.01, 0.9));
    app.add_option("--mixed-train", mixed_train, "Synthetic table: training rows")->capture_default_str()->check(CLI::Range(50, 1000000));
    app.add_option("--mixed-test", mixed_test, "Synthetic table: test rows")->capture_default_str()->check(CLI::Range(50, 1000000));
    CLI11_PARSE(app, argc, argv);
    ex::apply_threads(flags);
    // Same seed, same numbers: the products' engine is otherwise chosen by
    // timing, and engines round differently; on these small tables that
    // alone moves an AE's ROC AUC by a few hundredths. LATENT_GEMM overrides.
    if (!std::getenv("LATENT_GEMM")) latent::set_gemm_engine(latent::GemmEngine::eigen);
    s.epochs = flags.epochs;
    s.seed = flags.seed;
    s.hidden = ex::parse_sizes(hidden, "--hidden");

    return ex::run([&] {
        ex::Timer total;
        std::vector<LabelledTable> real;
        std::string missing_data;
        try {
            real.push_back(read_sklearn_labelled(flags.data, "breast_cancer.csv", "breast_cancer"));
            real.push_back(read_sklearn_labelled(flags.data, "wine_data.csv", "wine"));
            real.push_back(read_sklearn_diabetes(flags.data));
        } catch (const latent::Error& e) {
            real.clear();
            missing_data = e.what();
            std::cerr << "note: sklearn's tables not readable (" << e.what()
                      << "); install python3-sklearn (scripts/install_deps.sh demo) or pass --data. Running the synthetic table only.\n";
        }
        std::cout << "data: ";
        for (const auto& t : real) std::cout << t.name << " (" << t.cells.size() << " rows x " << t.cells.width() << " fields), ";
        std::cout << "synthetic mixed table (" << mixed_train << " train, " << mixed_test << " test rows)\n"
                  << "autoencoders: dense " << "E-" << ex::join_sizes(s.hidden) << "-" << s.code << " mirrored (anomaly), imputer 2E-64-32-32-64-E "
                  << "(values + mask in), MixedColumnLoss, Adam " << s.lr << ", " << s.epochs << " epochs; " << repeats << " seeds from "
                  << flags.seed << "\n";

        Results res;
        for (Index rep = 0; rep < repeats; ++rep) {
            const std::uint64_t seed = flags.seed + static_cast<std::uint64_t>(rep);
            std::cerr << "seed " << seed << " (" << rep + 1 << "/" << repeats << ")  [" << ex::num(total.seconds(), 1) << " s]\n";
            if (!real.empty()) {
                anomaly_breast_cancer(real[0], anomaly_rate, s, seed, res);
                for (const auto& t : real) imputation_real(t, missing, s, seed, res);
            }
            mixed_experiments(mixed_train, mixed_test, anomaly_rate, missing, s, seed, res);
        }

        res.print("anomaly_roc_auc", {"ae", "ae_masked", "pca", "knn", "zscore"}, "Anomaly detection, ROC AUC (higher is better):");
        res.print("anomaly_roc_auc_by_kind", {"ae", "ae_masked", "pca", "knn"}, "Synthetic table, ROC AUC per anomaly kind (normal rows vs that kind):");
        res.print("imputation_rmse", {"ae", "mean", "knn"},
                  "Imputation, RMSE over the hidden numeric cells in standardized units (lower is better):");
        res.print("categorical_accuracy", {"ae", "mode", "knn"}, "Imputation of hidden categorical cells, accuracy (higher is better):");
        const std::string cpu = cpu_model();
        std::cout << "\nmean ± sample std over " << repeats << " seeds; anomalies " << ex::num(100 * anomaly_rate, 0) << "% of each test set, "
                  << ex::num(100 * missing, 0) << "% of test cells hidden. Baselines: distance to the k-th nearest training row (k = " << s.knn << "), kNN imputation over "
                  << s.knn_impute << " rows, PCA " << s.pca << " components, z-score = mean |z| over features.\n"
                  << "ae: reconstruction error of the bottleneck AE" << (s.balance ? " (columns balanced on held-out normal rows)" : "")
                  << "; ae_masked: each column hidden in turn and predicted by the imputer (masked_column_errors), balanced likewise.\n"
                  << "Defaults (AE code and widths, balancing, PCA components, kNN k) were chosen on seeds 1000-1009, not on the seeds reported.\n"
                  << "CPU: " << cpu << ", " << flags.threads << " thread(s); total " << ex::num(total.seconds(), 1) << " s\n";

        ex::write_json(flags.json, ex::Json()
                                       .set("data", flags.data)
                                       .set("real_tables_missing", missing_data)
                                       .set("epochs", flags.epochs)
                                       .set("repeats", static_cast<long>(repeats))
                                       .set("seed", static_cast<unsigned long long>(flags.seed))
                                       .set("anomaly_rate", anomaly_rate)
                                       .set("missing", missing)
                                       .set("anomaly_roc_auc", res.json("anomaly_roc_auc"))
                                       .set("anomaly_roc_auc_by_kind", res.json("anomaly_roc_auc_by_kind"))
                                       .set("imputation_rmse", res.json("imputation_rmse"))
                                       .set("categorical_accuracy", res.json("categorical_accuracy"))
                                       .set("cpu", cpu)
                                       .set("threads", flags.threads)
                                       .set("seconds", total.seconds()));
        return 0;
    });
}
