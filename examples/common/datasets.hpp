// The example programs' datasets by name, as SupContrast's --dataset and --data_folder
// give them, plus the normalisation each is trained with (--mean/--std override it).
#pragma once

#include <algorithm>
#include <clr/clr.hpp>
#include <clr/data/cifar.hpp>
#include <clr/data/idx.hpp>
#include <clr/data/image_folder.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "args.hpp"

namespace clr::examples {

// Any dataset behind one type, so that a program instantiates its loader once.
class AnyDataset {
 public:
  template <data::Dataset D>
  explicit AnyDataset(D dataset) : impl_(std::make_shared<Impl<D>>(std::move(dataset))) {}

  std::int64_t size() const { return impl_->size(); }
  data::Sample get(std::int64_t index) const { return impl_->get(index); }
  int num_classes() const { return impl_->num_classes(); }
  std::string name() const { return impl_->name(); }

 private:
  struct Base {
    virtual ~Base() = default;
    virtual std::int64_t size() const = 0;
    virtual data::Sample get(std::int64_t index) const = 0;
    virtual int num_classes() const = 0;
    virtual std::string name() const = 0;
  };
  template <class D>
  struct Impl final : Base {
    explicit Impl(D d) : dataset(std::move(d)) {}
    std::int64_t size() const override { return dataset.size(); }
    data::Sample get(std::int64_t index) const override { return dataset.get(index); }
    int num_classes() const override { return dataset.num_classes(); }
    std::string name() const override { return dataset.name(); }
    D dataset;
  };
  std::shared_ptr<const Base> impl_;
};

// A dataset's first n samples (all of them when n >= its size).
class Subset {
 public:
  Subset(AnyDataset dataset, std::int64_t n)
      : dataset_(std::move(dataset)), n_(std::max<std::int64_t>(0, std::min(n, dataset_.size()))) {}
  std::int64_t size() const { return n_; }
  data::Sample get(std::int64_t index) const { return dataset_.get(index); }
  int num_classes() const { return dataset_.num_classes(); }
  std::string name() const { return dataset_.name(); }

 private:
  AnyDataset dataset_;
  std::int64_t n_;
};

struct DatasetChoice {
  std::string dataset;      // fashion_mnist, mnist, cifar10, cifar100 or path
  std::string data_folder;  // empty: the dataset's usual place
};

inline std::string default_data_folder(const std::string& dataset) {
  if (dataset == "fashion_mnist") return "/usr/share/datasets/fashion-mnist";
  if (dataset == "mnist") return "/usr/share/datasets/mnist";
  return "./datasets";  // SupContrast's default
}

inline AnyDataset open_dataset(const DatasetChoice& choice, data::Split split) {
  const std::string folder =
      choice.data_folder.empty() ? default_data_folder(choice.dataset) : choice.data_folder;
  if (choice.dataset == "fashion_mnist") return AnyDataset(data::fashion_mnist(folder, split));
  if (choice.dataset == "mnist") return AnyDataset(data::mnist(folder, split));
  if (choice.dataset == "cifar10") return AnyDataset(data::cifar10(folder, split));
  if (choice.dataset == "cifar100") return AnyDataset(data::cifar100(folder, split));
  require(choice.dataset == "path",
          "--dataset must be fashion_mnist, mnist, cifar10, cifar100 or path, got '",
          choice.dataset, "'");
  require(!choice.data_folder.empty(), "--dataset path needs --data_folder (root/<class>/*.png)");
  require(split == data::Split::train,
          "--dataset path has no test split; evaluate with a folder of your own");
  return AnyDataset(data::ImageFolder(folder));
}

// Image channels and normalisation of a dataset (SupContrast's numbers for CIFAR).
struct ImageStats {
  int channels = 3;
  std::vector<float> mean, std;
  int size = 32;
};

inline ImageStats dataset_stats(const std::string& dataset) {
  if (dataset == "fashion_mnist") return {1, {0.2860f}, {0.3530f}, 28};
  if (dataset == "mnist") return {1, {0.1307f}, {0.3081f}, 28};
  if (dataset == "cifar100")
    return {3, {0.5071f, 0.4867f, 0.4408f}, {0.2675f, 0.2565f, 0.2761f}, 32};
  return {3, {0.4914f, 0.4822f, 0.4465f}, {0.2023f, 0.1994f, 0.2010f}, 32};
}

// "(0.4914, 0.4822, 0.4465)" or "0.5,0.5,0.5" → numbers, as SupContrast's --mean/--std.
inline std::vector<float> parse_tuple(const std::string& text, const std::string& flag) {
  std::vector<float> values;
  std::string token;
  auto flush = [&] {
    if (token.empty()) return;
    values.push_back(parse_value<float>(token, "--" + flag));
    token.clear();
  };
  for (char c : text) {
    if (c == '(' || c == ')' || c == ' ' || c == '[' || c == ']') continue;
    if (c == ',') {
      flush();
    } else {
      token += c;
    }
  }
  flush();
  require(!values.empty(), "--", flag, " expects numbers such as \"(0.5, 0.5, 0.5)\", got '", text,
          "'");
  return values;
}

// The dataset's statistics with --mean, --std and --size applied where given.
inline ImageStats image_stats(const Args& args, const std::string& dataset) {
  ImageStats stats = dataset_stats(dataset);
  if (args.given("mean")) stats.mean = parse_tuple(args.get<std::string>("mean"), "mean");
  if (args.given("std")) stats.std = parse_tuple(args.get<std::string>("std"), "std");
  if (args.given("size")) stats.size = args.get<int>("size");
  return stats;
}

// "700,800,900" → {700, 800, 900}: SupContrast's --lr_decay_epochs.
inline std::vector<int> parse_milestones(const std::string& text) {
  std::vector<int> milestones;
  for (float value : parse_tuple(text, "lr_decay_epochs"))
    milestones.push_back(static_cast<int>(value));
  return milestones;
}

}  // namespace clr::examples
