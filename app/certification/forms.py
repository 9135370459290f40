"""The certification form; checklists are rendered from the task and read from the request."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.models.certification import COMPONENTS, PROBLEM_CATEGORIES

LARGEST_RUN = 2**63 - 1  # run numbers live in BigInteger columns, lumisection numbers in Integer ones
LARGEST_LUMISECTION = 2**31 - 1

TRACKERMAP_CHOICES = [SelectChoice("exists", "Exists"), SelectChoice("missing", "Missing")]
STATUS_CHOICES = [SelectChoice("good", "Good"), SelectChoice("bad", "Bad"), SelectChoice("excluded", "Excluded")]


class CertifyForm(FlaskForm):
    """Pixel, strip and tracking verdicts, bad ranges, reference run, tracker map, comment."""

    pixel = SelectField("Pixel", choices=STATUS_CHOICES, default="good")
    strip = SelectField("Strip", choices=STATUS_CHOICES, default="good")
    tracking = SelectField("Tracking", choices=STATUS_CHOICES, default="good")
    pixel_lowstat = BooleanField("Pixel low statistics")
    strip_lowstat = BooleanField("Strip low statistics")
    tracking_lowstat = BooleanField("Tracking low statistics")
    bad_ranges = StringField(
        "Bad lumisections", validators=[Length(max=2000)], description="e.g. 120-135 tracking; 400-410 (all components)"
    )
    reference_run = IntegerField("Reference run", validators=[Optional(), NumberRange(min=1, max=LARGEST_RUN)])
    trackermap = SelectField(
        "Tracker map", choices=[SelectChoice("exists", "Exists"), SelectChoice("missing", "Missing")]
    )
    problem_categories = SelectMultipleField(
        "Problem categories",
        choices=[SelectChoice(key, label) for key, label in PROBLEM_CATEGORIES.items()],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    bad_reason = StringField("Bad reason", validators=[Length(max=300)], description="one line for the report")
    comment = TextAreaField("Comment", validators=[Length(max=5000)], render_kw={"rows": 3})
    editing = HiddenField()  # the id of the certification being changed, if any
    # The suggested ranges the shifter accepted ("s" or a source's button), as "SOURCE:FIRST-LAST; ...": a bad
    # range overlapping one of them started as that source's suggestion (see with_origins).
    accepted = HiddenField(validators=[Length(max=20000)])
    submit = SubmitField("Certify")
    submit_next = SubmitField("Certify and open next")

    def fill_from(self, certification) -> None:
        """Show a certification's values, to change them."""
        for c in COMPONENTS:
            getattr(self, c).data = getattr(certification, c).value
            getattr(self, f"{c}_lowstat").data = getattr(certification, f"{c}_lowstat")
        self.trackermap.data = certification.trackermap
        self.bad_ranges.data = format_ranges(certification.bad_ranges)
        self.reference_run.data = certification.reference_run
        self.problem_categories.data = list(certification.problem_categories)
        self.bad_reason.data = certification.bad_reason
        self.comment.data = certification.comment
        self.editing.data = str(certification.id)
        self.accepted.data = format_accepted(
            (r.source_id, r.first, r.last) for r in certification.bad_ranges if r.source_id is not None
        )


class ChecklistsForm(FlaskForm):
    """A task's checklists as text: a group name per line, its items below it as '- item' lines."""

    text = TextAreaField("Checklists", validators=[DataRequired(), Length(max=20000)], render_kw={"rows": 16})
    submit = SubmitField("Save checklists")


class ReviewForm(FlaskForm):
    """A shift leader's decision."""

    comment = StringField("Comment", validators=[Length(max=2000)])
    approve = SubmitField("Approve")
    reject = SubmitField("Reject")


def parse_ranges(text: str) -> list[dict]:
    """'120-135 tracking; 400-410' as API range objects; ValueError naming the entry that does not read."""
    ranges = []
    for entry in text.replace("\n", ";").split(";"):
        words = entry.replace(",", " ").split()
        if not words:
            continue
        first, sep, last = words[0].partition("-")
        if not first.isdigit() or (sep and not last.isdigit()):
            raise ValueError(f"{entry.strip()!r} does not read as FIRST-LAST followed by components")
        if max(int(first), int(last or first)) > LARGEST_LUMISECTION:
            raise ValueError(f"{entry.strip()!r} names a lumisection beyond any run")
        components = [w.lower() for w in words[1:]] or list(COMPONENTS)
        ranges.append({"first": int(first), "last": int(last or first), "components": components})
    return ranges


def format_ranges(ranges) -> str:
    """Bad ranges in the form parse_ranges reads."""
    return "; ".join(
        f"{r.first}-{r.last}" + ("" if sorted(r.components) == sorted(COMPONENTS) else " " + " ".join(r.components))
        for r in ranges
    )


def format_accepted(ranges) -> str:
    """Accepted suggested ranges (source id, first, last) in the form parse_accepted reads."""
    return "; ".join(f"{source}:{first}-{last}" for source, first, last in ranges)


def parse_accepted(text: str) -> list[tuple[int, int, int]]:
    """'3:120-135; 4:400-410' as (source id, first, last); entries that do not read are left out (the page
    writes this field, and a range without a known origin is manual)."""
    accepted = []
    for entry in text.split(";"):
        source, _, span = entry.strip().partition(":")
        first, _, last = span.partition("-")
        if source.isdigit() and first.isdigit() and last.isdigit():
            accepted.append((int(source), int(first), int(last)))
    return accepted


def with_origins(ranges: list[dict], accepted: list[tuple[int, int, int]]) -> list[dict]:
    """The API range objects, each claiming to be suggested by the source of the first accepted suggestion it
    overlaps; the service settles whether it stayed as suggested or was edited (range_origin)."""
    for item in ranges:
        source = next((s for s, a, b in accepted if a <= item["last"] and item["first"] <= b), None)
        if source is not None:
            item["origin"], item["source_id"] = "suggested", source
    return ranges
