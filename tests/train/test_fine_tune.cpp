// Fine-tuning a pretrained encoder: its weights move into a classifier model by name, a
// mismatched checkpoint is refused without changing anything, and a supervised run with
// fine_tune_after_block trains exactly the blocks above the boundary.
#include <doctest/doctest.h>

#include <clr/clr.hpp>
#include <clr/train/fine_tune.hpp>
#include <clr/train/supervised.hpp>
#include <map>
#include <string>
#include <vector>

#include "support/squares.hpp"

using namespace clr;

namespace {

using testing::Squares;

using Encoder = nn::ResNet18<cpu, nn::CifarStem>;
using Pretrained = nn::SupConModel<Encoder, nn::MLPHead<cpu>>;
using Classifier = nn::SupCEModel<Encoder>;

Encoder make_encoder(std::uint64_t seed, float width = 0.0625f) {
  Rng rng(seed);
  return Encoder(rng, {.in_channels = 1, .width = width});
}

Pretrained make_pretrained() {
  Rng rng(1);
  Encoder encoder = make_encoder(2);
  const int dim = encoder.feature_dim();
  return Pretrained(std::move(encoder), nn::MLPHead<cpu>(dim, 16, rng));
}

Classifier make_classifier(float width = 0.0625f) {
  Rng rng(3);
  Encoder encoder = make_encoder(4, width);
  const int dim = encoder.feature_dim();
  return Classifier(std::move(encoder), dim, 4, rng);
}

std::map<std::string, std::vector<float>> values_of(auto& model) {
  std::map<std::string, std::vector<float>> values;
  for (const auto& entry : nn::state(model)) values[entry.name] = entry.value->to_vector();
  return values;
}

bool starts_with(const std::string& name, const char* lead) {
  return name.rfind(lead, 0) == 0;
}

}  // namespace

TEST_CASE("load_pretrained: the encoder's tensors by name, the new classifier untouched") {
  Pretrained pretrained = make_pretrained();
  pretrained.forward(Tensor<cpu>::from(std::vector<float>(4 * 64, 0.5f), {4, 1, 8, 8}),
                     nn::Mode::train);  // running statistics away from their initial values
  const CheckpointContents checkpoint = nn::state_contents(pretrained);
  Classifier classifier = make_classifier();
  const auto before = values_of(classifier);
  const int copied = train::load_pretrained(classifier, checkpoint, "encoder", "pretrained.clr");
  CHECK(copied == static_cast<int>(nn::state(classifier.encoder()).size()));

  const auto source = values_of(pretrained), after = values_of(classifier);
  int encoder_tensors = 0, differing_before = 0;
  for (const auto& [name, values] : after) {
    CAPTURE(name);
    if (starts_with(name, "encoder.")) {
      CHECK(values == source.at(name));
      differing_before += before.at(name) != source.at(name);
      ++encoder_tensors;
    } else {
      CHECK(values == before.at(name));  // fc.*: the classifier's own initialisation
    }
  }
  CHECK(encoder_tensors == copied);
  CHECK(differing_before > copied / 2);  // the copy changed something

  // Another architecture is refused and leaves the model as it was.
  Classifier wider = make_classifier(0.125f);
  const auto wider_before = values_of(wider);
  CHECK_THROWS_WITH_AS(train::load_pretrained(wider, checkpoint, "encoder", "pretrained.clr"),
                       doctest::Contains("pretrained.clr: encoder.conv1.weight has shape"), Error);
  CHECK(values_of(wider) == wider_before);
  CHECK_THROWS_WITH_AS(train::load_pretrained(classifier, checkpoint, "backbone", "pretrained.clr"),
                       doctest::Contains("no tensors under 'backbone'"), Error);
}

TEST_CASE("fine-tuning: fine_tune_after_block trains exactly the blocks above it") {
  for (int after_block : {4, 2, -1}) {
    CAPTURE(after_block);
    Classifier model = make_classifier();
    model.encoder().set_fine_tune_after_block(after_block);
    optim::SGD<cpu> sgd(nn::parameters(model), {.lr = 0.05, .momentum = 0.9});
    data::DataLoader<Squares, augment::SimCLRCifar> loader(
        Squares{.count = 64, .noise_seed = 500}, augment::simclr_cifar(8, {.channels = 1}),
        {.batch_size = 16, .n_views = 1, .shuffle = true, .num_workers = 1, .seed = 5});
    train::Progress progress("test", 1000, stderr);
    const auto lr = [](int, int, int) { return 0.05; };
    const auto before = values_of(model);
    const double first = train::supervised_epoch(model, sgd, loader, 1, 8, lr, progress).loss;
    double last = first;
    for (int epoch = 2; epoch <= 8; ++epoch)
      last = train::supervised_epoch(model, sgd, loader, epoch, 8, lr, progress).loss;
    CHECK(last < first);

    const auto after = values_of(model);
    for (const auto& [name, values] : after) {
      CAPTURE(name);
      const bool stem = starts_with(name, "encoder.conv1") || starts_with(name, "encoder.bn1");
      const bool early = starts_with(name, "encoder.layer1") || starts_with(name, "encoder.layer2");
      const bool statistics = name.find("running_") != std::string::npos ||
                              name.find("num_batches_tracked") != std::string::npos;
      const bool frozen = starts_with(name, "encoder.") &&
                          (after_block == 4 || (after_block == 2 && (stem || early)));
      if (frozen && (!statistics || after_block == 4)) {
        CHECK(values == before.at(name));  // no update, and with k = 4 no BN statistics
      } else if (!starts_with(name, "encoder.") || !statistics || after_block < 4) {
        CHECK(values != before.at(name));  // trained, or BN statistics of a train-mode part
      }
    }
  }
}
