// Module: the base of every model. It owns named parameters, buffers and submodules, so that
// parameters(), to(device), train()/eval() and saving reach the whole tree, as torch::nn::Module.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "ember/autograd/tensor.h"

namespace ember::nn {

class Module {
 public:
  explicit Module(std::string name = "Module") : name_(std::move(name)) {}
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  const std::string& name() const { return name_; }

  // Parameters of this module and (recursively) its submodules, in registration order; names are
  // dotted paths such as "fc.weight".
  std::vector<Tensor> parameters(bool recurse = true) const;
  std::vector<std::pair<std::string, Tensor>> named_parameters(bool recurse = true) const;
  std::vector<std::pair<std::string, Tensor>> named_buffers(bool recurse = true) const;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const { return children_; }

  // Moves (or converts) every parameter, gradient and buffer in place: handles held elsewhere,
  // such as an optimizer's, see the moved tensors. to(dtype) converts the floating ones only (as
  // PyTorch): an integer buffer such as BatchNorm's num_batches_tracked keeps its dtype.
  void to(Device device);
  void to(DType dtype);

  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // Clears every parameter's gradient (set to undefined, as PyTorch's default set_to_none).
  void zero_grad();

 protected:
  Tensor register_parameter(const std::string& name, Tensor tensor, bool requires_grad = true);
  Tensor register_buffer(const std::string& name, Tensor tensor);
  // Registers a submodule, given as a holder (Linear, Sequential, ...) or a shared_ptr, and
  // returns it, so a member can be initialised from the call.
  template <typename Holder> Holder register_module(const std::string& name, Holder module) {
    add_child(name, as_module_ptr(module));
    return module;
  }

 private:
  template <typename M> static std::shared_ptr<Module> as_module_ptr(const std::shared_ptr<M>& m) { return m; }
  template <typename H> static std::shared_ptr<Module> as_module_ptr(const H& holder) { return holder.ptr(); }
  void add_child(const std::string& name, std::shared_ptr<Module> child);
  void check_new_name(const std::string& name) const;
  void apply_to_tensors(const std::function<Tensor(const Tensor&)>& fn);

  std::string name_;
  std::vector<std::pair<std::string, Tensor>> parameters_;
  std::vector<std::pair<std::string, Tensor>> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

// A module with one tensor in and one tensor out: what Sequential chains.
class UnaryModule : public Module {
 public:
  using Module::Module;
  virtual Tensor forward(const Tensor& input) = 0;
};

// Holds a module by shared_ptr, like libtorch's ModuleHolder: `Linear fc(10, 2); fc(x);`.
// Copies share the module, so a holder member and the registered submodule are the same object.
template <typename Impl> class ModuleHolder {
 public:
  template <typename... Args>
    requires(std::is_constructible_v<Impl, Args...> &&
             !(sizeof...(Args) == 1 && (std::is_same_v<std::remove_cvref_t<Args>, ModuleHolder> && ...)))
  explicit ModuleHolder(Args&&... args) : impl_(std::make_shared<Impl>(std::forward<Args>(args)...)) {}
  explicit ModuleHolder(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

  Impl* operator->() const { return impl_.get(); }
  Impl& operator*() const { return *impl_; }
  const std::shared_ptr<Impl>& ptr() const { return impl_; }
  template <typename... Args> decltype(auto) operator()(Args&&... args) const {
    return impl_->forward(std::forward<Args>(args)...);
  }

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace ember::nn
