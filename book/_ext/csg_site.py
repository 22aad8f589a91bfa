"""What the site needs that YAML cannot say (a local extension: _config.yml loads it).

- ``authoryear``: a pybtex style whose bibliography labels read exactly as the text cites,
  "Chen et al., 2021" (sphinxcontrib-bibtex's ``author_year`` reference style), sorted by
  author and year. Two works may share a label, as they share their citation in the text
  (which adds no "a"/"b"); each citation links to its own entry.
- the footer's copyright year: the year of the build.
"""

import datetime

from pybtex.plugin import register_plugin
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle


def _surname(person) -> str:
    return " ".join(person.prelast_names + person.last_names)


class AuthorYearLabels(BaseLabelStyle):
    def format_label(self, entry) -> str:
        people = [
            _surname(p)
            for p in entry.persons.get("author") or entry.persons.get("editor", [])
        ]
        names = people[0] + " et al." if len(people) > 2 else " and ".join(people)
        return f"{names}, {entry.fields.get('year', 'n.d.')}"

    def format_labels(self, sorted_entries):
        return map(self.format_label, sorted_entries)


class AuthorYearStyle(PlainStyle):
    default_label_style = AuthorYearLabels


def _copyright_year(app, config):
    config.copyright = str(datetime.date.today().year)


def setup(app):
    register_plugin("pybtex.style.labels", "authoryear", AuthorYearLabels)
    register_plugin("pybtex.style.formatting", "authoryear", AuthorYearStyle)
    app.connect("config-inited", _copyright_year)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
