#include "cpu/model.h"

#include "cpu/state.h"

namespace vx86::cpu {

namespace {
constexpr uint32_t kArith = kCF | kPF | kAF | kZF | kSF | kOF;
constexpr uint32_t k86Writable = kArith | kTF | kIF | kDF;
constexpr uint32_t k386Writable = k86Writable | kIOPL | kNT;

constexpr ModelTraits kModels[] = {
    {CpuModel::k8086, "8086", true, false, false, false, false, false, false, true, true,
     0xF002, k86Writable, 0, false, false, false, false, false},
    {CpuModel::k286, "286", false, true, false, false, false, false, true, false, false, 0x0002,
     k86Writable, 10, true, true, false, false, false},
    {CpuModel::k386, "386", false, true, true, false, false, false, true, false, false, 0x0002,
     k386Writable, 15, false, false, true, false, false},
    {CpuModel::k486, "486", false, true, true, true, false, false, true, false, false, 0x0002,
     k386Writable | kAC, 15, false, false, true, false, false},
    {CpuModel::kPentium, "pentium", false, true, true, true, true, false, true, false, false,
     0x0002, k386Writable | kAC | kID, 15, false, false, true, false, false},
    {CpuModel::kP6, "p6", false, true, true, true, true, true, true, false, false, 0x0002,
     k386Writable | kAC | kID, 15, false, false, true, true, true},
};
}  // namespace

const ModelTraits& model_traits(CpuModel m) { return kModels[unsigned(m)]; }

std::optional<CpuModel> parse_model(std::string_view name) {
    for (const auto& t : kModels)
        if (name == t.name) return t.model;
    if (name == "8088") return CpuModel::k8086;
    if (name == "80286") return CpuModel::k286;
    if (name == "80386" || name == "i386") return CpuModel::k386;
    if (name == "80486" || name == "i486") return CpuModel::k486;
    if (name == "pentiumpro" || name == "pentium2" || name == "i686") return CpuModel::kP6;
    return std::nullopt;
}

}  // namespace vx86::cpu
