// `mlwm.paths` for Python: the original mlwm's module (create_path, parse_path
// and the number, bbox and resolution helpers, with its signatures and return
// types: dicts, naive UTC datetimes, int vs float) as a binding of the C++ key
// layout in core/paths, so producers and mlwm share one implementation.
#include <string>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "paths/key.hpp"
#include "paths/pnumber.hpp"

namespace py = pybind11;
using namespace mlwm::paths;

namespace {

// The original's format_number takes int or float; anything else (bool
// included: True is not a coordinate) is a ValueError naming the type.
PNumber to_pnumber(const py::handle& value, const char* what) {
    if (py::isinstance<py::bool_>(value) ||
        !(py::isinstance<py::int_>(value) || py::isinstance<py::float_>(value)))
        throw py::value_error(std::string(what) + ": unsupported type " +
                              py::str(py::type::of(value).attr("__name__")).cast<std::string>() +
                              ", expected int or float");
    if (py::isinstance<py::float_>(value)) return PNumber::floating(value.cast<double>());
    try {
        return PNumber::integer(value.cast<std::int64_t>());
    } catch (const py::cast_error&) {
        throw py::value_error(std::string(what) + ": " + py::str(value).cast<std::string>() +
                              " does not fit in 64 bits");
    }
}

py::object from_pnumber(const PNumber& n) {
    if (n.is_integer()) return py::int_(n.as_integer());
    return py::float_(n.as_double());
}

// A dict passed as the original passes it (`format_bbox(**bbox)`): exactly the
// named keys, else TypeError as a call with wrong keyword arguments would raise.
void exact_keys(const py::dict& d, std::initializer_list<const char*> keys, const char* what) {
    for (const char* k : keys)
        if (!d.contains(k)) throw py::type_error(std::string(what) + ": missing key '" + k + "'");
    if (d.size() != keys.size())
        for (const auto& item : d) {
            const std::string k = py::str(item.first).cast<std::string>();
            bool known = false;
            for (const char* want : keys) known = known || k == want;
            if (!known) throw py::type_error(std::string(what) + ": unexpected key '" + k + "'");
        }
}

BBox make_bbox(const py::handle& lon_min, const py::handle& lat_min, const py::handle& lon_max,
               const py::handle& lat_max) {
    return {to_pnumber(lon_min, "lon_min"), to_pnumber(lat_min, "lat_min"),
            to_pnumber(lon_max, "lon_max"), to_pnumber(lat_max, "lat_max")};
}

Resolution make_resolution(const py::handle& lon, const py::handle& lat, const std::string& unit) {
    return {to_pnumber(lon, "lon_resolution"), to_pnumber(lat, "lat_resolution"), parse_unit(unit)};
}

py::dict bbox_dict(const BBox& b) {
    py::dict d;
    d["lon_min"] = from_pnumber(b.lon_min);
    d["lat_min"] = from_pnumber(b.lat_min);
    d["lon_max"] = from_pnumber(b.lon_max);
    d["lat_max"] = from_pnumber(b.lat_max);
    return d;
}

py::dict resolution_dict(const Resolution& r) {
    py::dict d;
    d["lon_resolution"] = from_pnumber(r.lon_resolution);
    d["lat_resolution"] = from_pnumber(r.lat_resolution);
    d["unit"] = std::string(unit_name(r.unit));
    return d;
}

// A datetime as the original formats it (its wall time to the minute; seconds
// are dropped); an aware datetime is converted to UTC first.
AnalysisTime to_analysis_time(const py::handle& value) {
    const py::module_ datetime = py::module_::import("datetime");
    if (!py::isinstance(value, datetime.attr("datetime")))
        throw py::type_error("analysis_time: expected a datetime.datetime, got " +
                             py::str(py::type::of(value).attr("__name__")).cast<std::string>());
    py::object t = py::reinterpret_borrow<py::object>(value);
    if (!t.attr("utcoffset")().is_none())
        t = t.attr("astimezone")(datetime.attr("timezone").attr("utc"));
    return AnalysisTime::from_fields(t.attr("year").cast<int>(), t.attr("month").cast<int>(),
                                     t.attr("day").cast<int>(), t.attr("hour").cast<int>(),
                                     t.attr("minute").cast<int>());
}

// A naive datetime in UTC, as the original's parse_path returns it.
py::object to_datetime(const AnalysisTime& t) {
    const auto days = std::chrono::floor<std::chrono::days>(t.time_point());
    const std::chrono::year_month_day ymd{days};
    const std::chrono::hh_mm_ss hms{t.time_point() - days};
    return py::module_::import("datetime")
        .attr("datetime")(static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                          static_cast<unsigned>(ymd.day()), hms.hours().count(),
                          hms.minutes().count());
}

}  // namespace

PYBIND11_MODULE(paths, m) {
    m.doc() =
        "Create and parse the keys of input and output datasets "
        "(<model_name>/<model_config>/<bbox>/<resolution>/<YYYY-MM-DDThhmmZ>/member<N>/"
        "<data_kind>.zarr), as the original mlwm.paths does; the implementation is mlwm's C++ "
        "key layout.";
    // the original's module constants
    m.attr("BBOX_STRING_FORMAT") = "w{lon_min}_s{lat_min}_e{lon_max}_n{lat_max}";
    m.attr("RESOLUTION_STRING_FORMAT") = "dx{lon_resolution}{unit}_dy{lat_resolution}{unit}";
    m.attr("NUMBER_STRING_FORMAT") = "{integer_part}p{decimal_part}";
    m.attr("VALID_LENGTH_UNITS") = py::list(py::make_tuple("m", "km", "deg"));
    m.attr("DATETIME_FORMAT") = "%Y-%m-%dT%H%MZ";
    m.attr("PATH_FORMAT") =
        "{model_name}/{model_config}/{bbox}/{resolution}/{analysis_time:%Y-%m-%dT%H%MZ}/"
        "member{member:d}/{data_kind}.zarr";

    m.def(
        "format_number",
        [](const py::handle& number) { return format_pnumber(to_pnumber(number, "number")); },
        py::arg("number"),
        "An int as written (789 -> '789'); a float with 'p' for the decimal point "
        "(-10.5 -> '-10p5', 12.0 -> '12p0').");
    m.def(
        "parse_number", [](const std::string& text) { return from_pnumber(parse_pnumber(text)); },
        py::arg("number"), "'-10p5' -> -10.5 (float), '789' -> 789 (int).");
    m.def(
        "format_bbox",
        [](const py::handle& lon_min, const py::handle& lat_min, const py::handle& lon_max,
           const py::handle& lat_max) {
            return format_bbox(make_bbox(lon_min, lat_min, lon_max, lat_max));
        },
        py::arg("lon_min"), py::arg("lat_min"), py::arg("lon_max"), py::arg("lat_max"),
        "'w<lon_min>_s<lat_min>_e<lon_max>_n<lat_max>'");
    m.def(
        "parse_bbox", [](const std::string& text) { return bbox_dict(parse_bbox(text)); },
        py::arg("bbox"), "{'lon_min', 'lat_min', 'lon_max', 'lat_max'}");
    m.def(
        "format_resolution",
        [](const py::handle& lon, const py::handle& lat, const std::string& unit) {
            return format_resolution(make_resolution(lon, lat, unit));
        },
        py::arg("lon_resolution"), py::arg("lat_resolution"), py::arg("unit"),
        "'dx<lon_resolution><unit>_dy<lat_resolution><unit>', unit 'm', 'km' or 'deg'");
    m.def(
        "parse_resolution",
        [](const std::string& text) { return resolution_dict(parse_resolution(text)); },
        py::arg("resolution"), "{'lon_resolution', 'lat_resolution', 'unit'}");
    m.def(
        "create_path",
        [](const std::string& model_name, const std::string& model_config, const py::dict& bbox,
           const py::dict& resolution, const py::handle& analysis_time,
           const std::string& data_kind, const py::handle& member) {
            exact_keys(bbox, {"lon_min", "lat_min", "lon_max", "lat_max"}, "bbox");
            exact_keys(resolution, {"lon_resolution", "lat_resolution", "unit"}, "resolution");
            if (py::isinstance<py::bool_>(member) || !py::isinstance<py::int_>(member) ||
                member.cast<long long>() < 0 || member.cast<long long>() > 0xFFFFFFFFLL)
                throw py::value_error("member: " + py::repr(member).cast<std::string>() +
                                      " is not an ensemble member number (an int >= 0)");
            DatasetKey key{
                .model_name = model_name,
                .model_config = model_config,
                .bbox =
                    make_bbox(bbox["lon_min"], bbox["lat_min"], bbox["lon_max"], bbox["lat_max"]),
                .resolution =
                    make_resolution(resolution["lon_resolution"], resolution["lat_resolution"],
                                    py::str(resolution["unit"]).cast<std::string>()),
                .analysis_time = to_analysis_time(analysis_time),
                .member = member.cast<Member>(),
                .data_kind = data_kind,
            };
            return create_path(key);
        },
        py::arg("model_name"), py::arg("model_config"), py::arg("bbox"), py::arg("resolution"),
        py::arg("analysis_time"), py::arg("data_kind"), py::arg("member") = 0,
        "The key of a dataset. bbox and resolution are dicts as parse_bbox and parse_resolution "
        "return them; analysis_time a datetime (naive: UTC; aware: converted to UTC).");
    m.def(
        "parse_path",
        [](const std::string& path) {
            const DatasetKey k = parse_path(path);
            py::dict d;
            d["model_name"] = k.model_name;
            d["model_config"] = k.model_config;
            d["bbox"] = bbox_dict(k.bbox);
            d["resolution"] = resolution_dict(k.resolution);
            d["analysis_time"] = to_datetime(k.analysis_time);
            d["data_kind"] = k.data_kind;
            d["member"] = k.member;
            return d;
        },
        py::arg("path"),
        "{'model_name', 'model_config', 'bbox', 'resolution', 'analysis_time' (naive UTC "
        "datetime), 'data_kind', 'member'}; ValueError naming the segment that is wrong.");
}
