// The Dataset concept that the loader takes, and InMemoryDataset, the array of same-sized
// images that the IDX and CIFAR readers fill.
//
// A dataset is a cheap handle: copies share the pixels (a std::shared_ptr), so a training
// loader and an evaluation loader can both hold the 150 MB of CIFAR-10 once. `get` is const
// and safe to call from many threads at once: the loader's workers do.
#pragma once

#include <concepts>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "clr/augment/image.hpp"
#include "clr/core/error.hpp"

namespace clr::data {

// One example: the picture (uint8 HWC) and its class, 0 <= label < num_classes().
struct Sample {
  augment::Image image;
  int label = 0;
};

enum class Split { train, test };

inline const char* to_string(Split split) {
  return split == Split::train ? "train" : "test";
}

template <class D>
concept Dataset = requires(const D& dataset, std::int64_t index) {
  { dataset.size() } -> std::convertible_to<std::int64_t>;
  { dataset.get(index) } -> std::same_as<Sample>;
  { dataset.num_classes() } -> std::convertible_to<int>;
  // What error messages call the dataset: its kind and where it came from.
  { dataset.name() } -> std::convertible_to<std::string>;
};

// Images of one size, stored [count, height, width, channels] contiguous in a shared buffer
// (at `offset`, so an IDX file's own bytes serve as the pixels without a copy).
class InMemoryDataset {
 public:
  InMemoryDataset() = default;
  InMemoryDataset(std::string name, std::shared_ptr<const std::vector<std::uint8_t>> buffer,
                  std::size_t offset, std::int64_t count, int height, int width, int channels,
                  std::vector<int> labels, int num_classes,
                  std::vector<std::string> class_names = {})
      : name_(std::move(name)),
        buffer_(std::move(buffer)),
        offset_(offset),
        count_(count),
        height_(height),
        width_(width),
        channels_(channels),
        labels_(std::make_shared<const std::vector<int>>(std::move(labels))),
        num_classes_(num_classes),
        class_names_(std::make_shared<const std::vector<std::string>>(std::move(class_names))) {
    require(buffer_ != nullptr, name_, ": no pixel buffer");
    require(height > 0 && width > 0 && (channels == 1 || channels == 3), name_,
            ": image size must be positive with 1 or 3 channels, got ", height, "x", width, "x",
            channels);
    require(count >= 0 && static_cast<std::int64_t>(labels_->size()) == count, name_, ": ",
            labels_->size(), " labels for ", count, " images");
    require(offset <= buffer_->size() &&
                static_cast<std::uint64_t>(count) * image_bytes() <= buffer_->size() - offset,
            name_, ": the pixel buffer of ", buffer_->size(), " bytes cannot hold ", count,
            " images of ", image_bytes(), " bytes from offset ", offset);
    require(num_classes > 0, name_, ": num_classes must be > 0, got ", num_classes);
    for (std::size_t i = 0; i < labels_->size(); ++i)
      require((*labels_)[i] >= 0 && (*labels_)[i] < num_classes, name_, ": label ", (*labels_)[i],
              " of image ", i, " is out of range [0, ", num_classes, ")");
  }

  std::int64_t size() const { return count_; }
  int num_classes() const { return num_classes_; }
  const std::string& name() const { return name_; }
  int height() const { return height_; }
  int width() const { return width_; }
  int channels() const { return channels_; }
  // Class names where the format ships them (CIFAR meta files, Fashion-MNIST's paper), else
  // empty.
  const std::vector<std::string>& class_names() const { return *class_names_; }
  const std::vector<int>& labels() const { return *labels_; }

  int label(std::int64_t index) const { return (*labels_)[checked(index)]; }
  // Image `index`'s bytes, HWC, without a copy.
  std::span<const std::uint8_t> pixels(std::int64_t index) const {
    return {buffer_->data() + offset_ + checked(index) * image_bytes(), image_bytes()};
  }
  Sample get(std::int64_t index) const {
    return {augment::Image::from(pixels(index), height_, width_, channels_), label(index)};
  }

 private:
  std::size_t image_bytes() const { return static_cast<std::size_t>(height_) * width_ * channels_; }
  std::size_t checked(std::int64_t index) const {
    require(index >= 0 && index < count_, name_, ": index ", index, " out of range [0, ", count_,
            ")");
    return static_cast<std::size_t>(index);
  }

  std::string name_;
  std::shared_ptr<const std::vector<std::uint8_t>> buffer_;
  std::size_t offset_ = 0;
  std::int64_t count_ = 0;
  int height_ = 0;
  int width_ = 0;
  int channels_ = 0;
  std::shared_ptr<const std::vector<int>> labels_ = std::make_shared<const std::vector<int>>();
  int num_classes_ = 0;
  std::shared_ptr<const std::vector<std::string>> class_names_ =
      std::make_shared<const std::vector<std::string>>();
};

static_assert(Dataset<InMemoryDataset>);

}  // namespace clr::data
