"""The certification form; checklists are rendered from the task and read from the request."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional

from app.models.certification import COMPONENTS

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
    reference_run = IntegerField("Reference run", validators=[Optional(), NumberRange(min=1)])
    trackermap = SelectField(
        "Tracker map", choices=[SelectChoice("exists", "Exists"), SelectChoice("missing", "Missing")]
    )
    comment = TextAreaField("Comment", validators=[Length(max=5000)], render_kw={"rows": 3})
    submit = SubmitField("Certify")
    submit_next = SubmitField("Certify and open next")


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
        components = [w.lower() for w in words[1:]] or list(COMPONENTS)
        ranges.append({"first": int(first), "last": int(last or first), "components": components})
    return ranges
