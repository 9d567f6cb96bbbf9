"""Template helpers of the inventory: choice lists and labels in the language of the moment."""

from core.i18n import get_language
from inventory import labels
from inventory.tables import Resource


def _options(enum, label):
    return [(member.value, label(member)) for member in enum]


def register(env) -> None:
    env.globals.update(
        resource_kind_label=labels.kind_label,
        price_text=labels.price_text,
        price_model_label=labels.price_model_label,
        funding_label=labels.funding_label,
        cost_unit_label=labels.cost_unit_label,
        category_name=labels.category_name,
        weekday_name=lambda day: str(labels.WEEKDAYS[day]),
        cell_label=labels.cell_label,
        category_options=lambda cats: [(c.slug, c.name_en if get_language() == "en" else c.name_nl) for c in cats],
        facilities_options=lambda facilities: [(f.id, f.name) for f in facilities],
        qualification_options=lambda rows: [(q.id, q.name) for q in rows],
    )
    env.filters["map_points"] = lambda hits: [
        {"lat": h.latitude, "lon": h.longitude, "name": h.name, "url": f"/resources/{h.id}",
         "place": f"{h.facility_name}, {h.municipality}"}
        for h in hits if h.latitude is not None
    ]
    # Choice lists are read when a page renders, so they follow the language of the request.
    env.globals["resource_kinds"] = _LazyOptions(Resource.Kind, labels.kind_label)
    env.globals["price_models"] = _LazyOptions(Resource.PriceModel, labels.price_model_label)
    env.globals["fundings"] = _LazyOptions(Resource.Funding, labels.funding_label)
    env.globals["cost_units"] = _LazyOptions(Resource.CostUnit, labels.cost_unit_label)


class _LazyOptions:
    def __init__(self, enum, label):
        self.enum, self.label = enum, label

    def __iter__(self):
        return iter(_options(self.enum, self.label))
