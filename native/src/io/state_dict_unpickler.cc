#include "io/state_dict_unpickler.h"

#include <ATen/ATen.h>

#include <cstring>
#include <limits>
#include <unordered_map>

#include "core/error.h"

namespace da::io {
namespace {

using Kind = PickleValue::Kind;

PickleRef make(Kind k) {
  auto v = std::make_shared<PickleValue>();
  v->kind = k;
  return v;
}
PickleRef make_int(int64_t i) {
  auto v = make(Kind::kInt);
  v->i = i;
  return v;
}
PickleRef make_str(Kind k, std::string s) {
  auto v = make(k);
  v->s = std::move(s);
  return v;
}

// Storage classes of a persistent id (torch.FloatStorage ...) -> dtype.
bool storage_dtype(const std::string& global, at::ScalarType* out) {
  static const std::unordered_map<std::string, at::ScalarType> kTypes = {
      {"torch.FloatStorage", at::kFloat},   {"torch.DoubleStorage", at::kDouble}, {"torch.HalfStorage", at::kHalf},
      {"torch.BFloat16Storage", at::kBFloat16}, {"torch.LongStorage", at::kLong}, {"torch.IntStorage", at::kInt},
      {"torch.ShortStorage", at::kShort},   {"torch.CharStorage", at::kChar},    {"torch.ByteStorage", at::kByte},
      {"torch.BoolStorage", at::kBool},     {"torch.UntypedStorage", at::kByte},
  };
  auto it = kTypes.find(global);
  if (it == kTypes.end()) return false;
  *out = it->second;
  return true;
}

class Machine {
 public:
  Machine(const char* data, size_t size, size_t pos, const StorageProvider& storage) : d_(data), n_(size), p_(pos), storage_(storage) {}

  PickleRef run() {
    for (;;) {
      const uint8_t op = u8();
      switch (op) {
        case 0x80: u8(); break;           // PROTO
        case 0x95: bytes(8); break;       // FRAME (a length hint)
        case '.': return finish();        // STOP
        case '(': marks_.push_back(stack_.size()); break;
        case '0': pop(); break;
        case '1': pop_to_mark(); break;
        case '2': push(top()); break;
        case 'N': push(make(Kind::kNone)); break;
        case 0x88: case 0x89: {
          auto v = make(Kind::kBool);
          v->i = op == 0x88;
          push(v);
          break;
        }
        case 'J': push(make_int(static_cast<int32_t>(le(4)))); break;
        case 'K': push(make_int(static_cast<int64_t>(le(1)))); break;
        case 'M': push(make_int(static_cast<int64_t>(le(2)))); break;
        case 0x8a: push(long_int(le(1))); break;
        case 0x8b: push(long_int(le(4))); break;
        case 'I': push(text_int(line())); break;
        case 'L': {
          std::string s = line();
          if (!s.empty() && s.back() == 'L') s.pop_back();
          push(text_int(s));
          break;
        }
        case 'G': {
          uint64_t bits = 0;
          for (int k = 0; k < 8; ++k) bits = (bits << 8) | u8();  // big-endian
          auto v = make(Kind::kFloat);
          std::memcpy(&v->f, &bits, sizeof(double));
          push(v);
          break;
        }
        case 'X': push(make_str(Kind::kString, bytes(le(4)))); break;
        case 0x8c: push(make_str(Kind::kString, bytes(le(1)))); break;
        case 0x8d: push(make_str(Kind::kString, bytes(le(8)))); break;
        case 'T': push(make_str(Kind::kString, bytes(le(4)))); break;  // py2 str (as the legacy files hold)
        case 'U': push(make_str(Kind::kString, bytes(le(1)))); break;
        case 'B': push(make_str(Kind::kBytes, bytes(le(4)))); break;
        case 'C': push(make_str(Kind::kBytes, bytes(le(1)))); break;
        case 0x8e: push(make_str(Kind::kBytes, bytes(le(8)))); break;
        case ')': push(make(Kind::kTuple)); break;
        case 't': {
          auto v = make(Kind::kTuple);
          v->items = pop_to_mark();
          push(v);
          break;
        }
        case 0x85: case 0x86: case 0x87: {
          const size_t k = op - 0x84;
          auto v = make(Kind::kTuple);
          need(k);
          v->items.assign(stack_.end() - static_cast<std::ptrdiff_t>(k), stack_.end());
          stack_.resize(stack_.size() - k);
          push(v);
          break;
        }
        case ']': push(make(Kind::kList)); break;
        case 'l': {
          auto v = make(Kind::kList);
          v->items = pop_to_mark();
          push(v);
          break;
        }
        case 'a': {
          PickleRef x = pop();
          container(Kind::kList)->items.push_back(x);
          break;
        }
        case 'e': {
          auto xs = pop_to_mark();
          auto& l = container(Kind::kList)->items;
          l.insert(l.end(), xs.begin(), xs.end());
          break;
        }
        case '}': push(make(Kind::kDict)); break;
        case 'd': {
          auto v = make(Kind::kDict);
          add_pairs(v, pop_to_mark());
          push(v);
          break;
        }
        case 's': {
          PickleRef val = pop(), key = pop();
          container(Kind::kDict)->dict.emplace_back(key, val);
          break;
        }
        case 'u': {
          auto xs = pop_to_mark();
          add_pairs(container(Kind::kDict), xs);
          break;
        }
        case 'c': {
          std::string module = line();
          std::string name = line();
          push(make_str(Kind::kGlobal, module + "." + name));
          break;
        }
        case 0x93: {
          PickleRef name = pop(), module = pop();
          push(make_str(Kind::kGlobal, module->s + "." + name->s));
          break;
        }
        case 'q': memo_[static_cast<uint32_t>(le(1))] = top(); break;
        case 'r': memo_[static_cast<uint32_t>(le(4))] = top(); break;
        case 0x94: memo_[static_cast<uint32_t>(memo_.size())] = top(); break;
        case 'p': memo_[text_index(line())] = top(); break;
        case 'h': push(memo(static_cast<uint32_t>(le(1)))); break;
        case 'j': push(memo(static_cast<uint32_t>(le(4)))); break;
        case 'g': push(memo(text_index(line()))); break;
        case 'R': {
          PickleRef args = pop(), fn = pop();
          push(call(fn, args));
          break;
        }
        case 'b': pop(); break;  // BUILD: attributes (an OrderedDict's _metadata), never weights
        case 0x81: {             // NEWOBJ: cls.__new__(cls, *args): not constructed, kept opaque
          pop();
          PickleRef cls = pop();
          push(make_str(Kind::kOpaque, cls->s));
          break;
        }
        case 0x92: {  // NEWOBJ_EX
          pop();
          pop();
          PickleRef cls = pop();
          push(make_str(Kind::kOpaque, cls->s));
          break;
        }
        case 'Q': push(persistent(pop())); break;
        default:
          fail(code::kUnsupported, "pickle opcode 0x" + hex(op) + " at byte " + std::to_string(p_ - 1) + " is not used by state dicts: this file is not a torch.save'd state dict");
      }
    }
  }

  size_t pos() const { return p_; }

 private:
  const char* d_;
  size_t n_;
  size_t p_;
  const StorageProvider& storage_;
  std::vector<PickleRef> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint32_t, PickleRef> memo_;

  static std::string hex(uint8_t b) {
    const char* digits = "0123456789abcdef";
    return {digits[b >> 4], digits[b & 15]};
  }
  [[noreturn]] void truncated() const { fail(code::kWeights, "the pickle ends early (byte " + std::to_string(p_) + " of " + std::to_string(n_) + "): the file is truncated"); }
  uint8_t u8() {
    if (p_ >= n_) truncated();
    return static_cast<uint8_t>(d_[p_++]);
  }
  uint64_t le(int k) {
    if (p_ + static_cast<size_t>(k) > n_) truncated();
    uint64_t v = 0;
    for (int j = k - 1; j >= 0; --j) v = (v << 8) | static_cast<uint8_t>(d_[p_ + static_cast<size_t>(j)]);
    p_ += static_cast<size_t>(k);
    return v;
  }
  std::string bytes(uint64_t k) {
    if (k > n_ - p_) truncated();
    std::string s(d_ + p_, static_cast<size_t>(k));
    p_ += static_cast<size_t>(k);
    return s;
  }
  std::string line() {
    const char* nl = static_cast<const char*>(std::memchr(d_ + p_, '\n', n_ - p_));
    if (!nl) truncated();
    std::string s(d_ + p_, static_cast<size_t>(nl - (d_ + p_)));
    p_ = static_cast<size_t>(nl - d_) + 1;
    return s;
  }
  // LONG1 / LONG4: little-endian two's complement of `k` bytes. Wider than 64 bits (the legacy
  // magic number) stays raw bytes.
  PickleRef long_int(uint64_t k) {
    std::string raw = bytes(k);
    if (k > 8) return make_str(Kind::kBytes, raw);
    uint64_t v = 0;
    for (size_t j = raw.size(); j-- > 0;) v = (v << 8) | static_cast<uint8_t>(raw[j]);
    if (k > 0 && k < 8 && (static_cast<uint8_t>(raw.back()) & 0x80)) v |= ~uint64_t{0} << (8 * k);  // sign-extend
    return make_int(static_cast<int64_t>(v));
  }
  PickleRef text_int(const std::string& s) {
    if (s == "00" || s == "01") {
      auto v = make(Kind::kBool);
      v->i = s == "01";
      return v;
    }
    try {
      return make_int(std::stoll(s));
    } catch (...) {
      fail(code::kWeights, "malformed integer '" + s + "' in the pickle");
    }
  }

  static uint32_t text_index(const std::string& s) {
    try {
      return static_cast<uint32_t>(std::stoul(s));
    } catch (...) {
      fail(code::kWeights, "malformed memo index '" + s + "' in the pickle");
    }
  }

  void push(PickleRef v) { stack_.push_back(std::move(v)); }
  void need(size_t k) const {
    if (stack_.size() < k) fail(code::kWeights, "malformed pickle: stack underflow at byte " + std::to_string(p_));
  }
  PickleRef pop() {
    need(1);
    PickleRef v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  const PickleRef& top() const {
    need(1);
    return stack_.back();
  }
  std::vector<PickleRef> pop_to_mark() {
    if (marks_.empty()) fail(code::kWeights, "malformed pickle: no MARK at byte " + std::to_string(p_));
    const size_t m = marks_.back();
    marks_.pop_back();
    if (m > stack_.size()) fail(code::kWeights, "malformed pickle: MARK past the stack");
    std::vector<PickleRef> xs(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    return xs;
  }
  PickleRef memo(uint32_t k) const {
    auto it = memo_.find(k);
    if (it == memo_.end()) fail(code::kWeights, "malformed pickle: memo entry " + std::to_string(k) + " was never stored");
    return it->second;
  }
  const PickleRef& container(Kind k) const {
    const PickleRef& c = top();
    // Items added to an opaque object (a dict subclass other than OrderedDict) are dropped with it.
    if (c->kind != k && c->kind != Kind::kOpaque) fail(code::kWeights, "malformed pickle: adding items to a value that is not a container");
    return c;
  }
  static void add_pairs(const PickleRef& d, const std::vector<PickleRef>& xs) {
    if (xs.size() % 2) fail(code::kWeights, "malformed pickle: a dict with an odd number of items");
    for (size_t k = 0; k + 1 < xs.size(); k += 2) d->dict.emplace_back(xs[k], xs[k + 1]);
  }

  static std::vector<int64_t> ints(const PickleRef& v, const char* what) {
    if (v->kind != Kind::kTuple && v->kind != Kind::kList) fail(code::kWeights, std::string("a tensor's ") + what + " is not a tuple");
    std::vector<int64_t> out;
    for (const auto& x : v->items) {
      if (x->kind != Kind::kInt) fail(code::kWeights, std::string("a tensor's ") + what + " holds a non-integer");
      out.push_back(x->i);
    }
    return out;
  }
  static const PickleRef& arg(const PickleRef& args, size_t k, const std::string& fn) {
    if (args->kind != Kind::kTuple || args->items.size() <= k) fail(code::kWeights, fn + " called with too few arguments");
    return args->items[k];
  }

  // The calls a state dict makes; any other callable yields an opaque value (never executed).
  PickleRef call(const PickleRef& fn, const PickleRef& args) {
    if (fn->kind != Kind::kGlobal) return make_str(Kind::kOpaque, "<call>");
    const std::string& name = fn->s;
    if (name == "collections.OrderedDict") {
      auto d = make(Kind::kDict);
      // Protocol 0/1 pass the items as a list of pairs.
      if (args->kind == Kind::kTuple && !args->items.empty() && args->items[0]->kind == Kind::kList) {
        for (const auto& pair : args->items[0]->items) {
          if ((pair->kind == Kind::kList || pair->kind == Kind::kTuple) && pair->items.size() == 2) d->dict.emplace_back(pair->items[0], pair->items[1]);
        }
      }
      return d;
    }
    if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor") {
      const PickleRef& st = arg(args, 0, name);
      if (st->kind != Kind::kTensor) fail(code::kWeights, name + " got no storage");
      const PickleRef& off = arg(args, 1, name);
      if (off->kind != Kind::kInt) fail(code::kWeights, name + ": the storage offset is not an integer");
      const auto size = ints(arg(args, 2, name), "size");
      const auto stride = ints(arg(args, 3, name), "stride");
      if (size.size() != stride.size()) fail(code::kWeights, name + ": size and stride differ in length");
      int64_t last = off->i;
      for (size_t k = 0; k < size.size(); ++k) {
        if (size[k] < 0 || stride[k] < 0) fail(code::kWeights, name + ": negative size or stride");
        if (size[k] == 0) last = -1;
        if (last >= 0 && size[k] > 1) {
          // Checked: a corrupt size or stride must not wrap around into a valid-looking extent.
          if (stride[k] > (std::numeric_limits<int64_t>::max() - last) / (size[k] - 1)) fail(code::kWeights, name + ": a tensor's extent overflows");
          last += (size[k] - 1) * stride[k];
        }
      }
      if (off->i < 0 || last >= st->tensor.numel()) fail(code::kWeights, name + ": a tensor reaches past the end of its storage");
      auto v = make(Kind::kTensor);
      v->tensor = st->tensor.as_strided(size, stride, off->i);
      return v;
    }
    if (name == "torch._utils._rebuild_parameter" || name == "torch._utils._rebuild_parameter_with_state" || name == "torch.jit._pickle.restore_type_tag" ||
        name == "torch.Size") {
      return arg(args, 0, name);
    }
    if (name == "torch._tensor._rebuild_from_type_v2") return call(arg(args, 0, name), arg(args, 2, name));
    return make_str(Kind::kOpaque, name);
  }

  // ('storage', <dtype class>, key, location, numel[, (view key, offset, size) | None])
  PickleRef persistent(const PickleRef& pid) {
    if (pid->kind != Kind::kTuple || pid->items.size() < 5 || pid->items[0]->s != "storage") {
      fail(code::kUnsupported, "a persistent id that is not a storage: only state dicts of tensors are read");
    }
    const auto& it = pid->items;
    at::ScalarType dtype;
    if (it[1]->kind != Kind::kGlobal || !storage_dtype(it[1]->s, &dtype)) fail(code::kUnsupported, "storage type '" + it[1]->s + "' is not supported");
    if (it[2]->kind != Kind::kString || it[4]->kind != Kind::kInt || it[4]->i < 0) fail(code::kWeights, "malformed storage id");
    at::Tensor t = storage_(it[2]->s, dtype, it[4]->i);
    if (it.size() > 5 && it[5]->kind == Kind::kTuple && it[5]->items.size() == 3) {
      // A view of a larger storage (legacy files): (view key, offset, size) in elements.
      const int64_t offset = it[5]->items[1]->i, count = it[5]->items[2]->i;
      if (offset < 0 || count < 0 || offset + count > t.numel()) fail(code::kWeights, "a storage view reaches past its storage");
      t = t.narrow(0, offset, count);
    }
    auto v = make(Kind::kTensor);
    v->tensor = t;
    return v;
  }

  PickleRef finish() {
    if (stack_.size() != 1) fail(code::kWeights, "malformed pickle: " + std::to_string(stack_.size()) + " values left at STOP");
    return stack_.back();
  }
};

}  // namespace

PickleRef unpickle_state_dict(const char* data, size_t size, size_t* pos, const StorageProvider& storage) {
  Machine m(data, size, *pos, storage);
  PickleRef out = m.run();
  *pos = m.pos();
  return out;
}

}  // namespace da::io
