"""Competition forms."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FloatField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

import scorers
from app.services.competitions.bundle_checks import LARGEST_SETTING

# Limits and seeds are stored in integer columns: a larger number would not fit.
LIMIT = NumberRange(min=1, max=LARGEST_SETTING)
SEED = NumberRange(min=0, max=LARGEST_SETTING)


class JoinForm(FlaskForm):
    """Accepting the rules to join."""

    accept_rules = BooleanField(
        "I have read and accept the rules", validators=[DataRequired("Accept the rules to join.")]
    )
    submit = SubmitField("Join the competition")


class SubmitForm(FlaskForm):
    """A predictions file and a note about it."""

    file = FileField("Predictions (CSV, gzip-compressed CSV or Parquet)", validators=[FileRequired("Choose a file.")])
    description = StringField("Description (optional)", validators=[Length(max=2000)])
    # The phase open when the page was shown: a file is refused, never moved, if another phase opened since.
    phase = HiddenField(validators=[Length(max=50)])
    submit = SubmitField("Submit predictions")


class BaselineForm(FlaskForm):
    """An organiser's baseline: predictions and the name the leaderboard lists them under."""

    file = FileField("Predictions (CSV, gzip-compressed CSV or Parquet)", validators=[FileRequired("Choose a file.")])
    name = StringField(
        "Name on the leaderboard",
        validators=[DataRequired("Name the baseline, e.g. Random baseline."), Length(max=200)],
    )
    submit = SubmitField("Submit the baseline")


class BundleForm(FlaskForm):
    """A competition bundle as a zip."""

    bundle = FileField("Bundle (.zip with competition.yaml)", validators=[FileRequired("Choose a zip file.")])
    submit = SubmitField("Import competition")


class SettingsForm(FlaskForm):
    """Settings an organiser may change after the import."""

    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    overview = TextAreaField("Overview (Markdown)", render_kw={"rows": 12})
    opens_at = DateTimeLocalField("Opens at (UTC)", validators=[Optional()], format="%Y-%m-%dT%H:%M")
    closes_at = DateTimeLocalField("Closes at (UTC)", validators=[Optional()], format="%Y-%m-%dT%H:%M")
    daily_limit = IntegerField("Submissions per participant per UTC day", validators=[InputRequired(), LIMIT])
    total_limit = IntegerField("Submissions per participant in all", validators=[Optional(), LIMIT])
    final_selections = IntegerField("Final selections", validators=[InputRequired(), NumberRange(min=1, max=20)])
    submit = SubmitField("Save settings")


class DatasetCompetitionForm(FlaskForm):
    """A competition on a published dataset version: its files are already stored, only settings are chosen."""

    slug = StringField("Slug", validators=[DataRequired(), Length(min=3, max=100)])
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    overview = TextAreaField("Overview (Markdown)", render_kw={"rows": 10})
    metric = SelectField("Metric", choices=sorted(scorers.REGISTRY), default="roc_auc")
    id_column = StringField("Id column", default="id", validators=[DataRequired(), Length(max=100)])
    target_column = StringField("Target column", default="label", validators=[DataRequired(), Length(max=100)])
    public_fraction = FloatField(
        "Public fraction (only when the solution has no Usage column)",
        default=0.3,
        validators=[InputRequired(), NumberRange(min=0, max=1)],
    )
    split_seed = IntegerField("Split seed", default=0, validators=[InputRequired(), SEED])
    opens_at = DateTimeLocalField("Opens at (UTC)", validators=[Optional()], format="%Y-%m-%dT%H:%M")
    closes_at = DateTimeLocalField("Closes at (UTC)", validators=[Optional()], format="%Y-%m-%dT%H:%M")
    daily_limit = IntegerField(
        "Submissions per participant per UTC day", default=5, validators=[InputRequired(), LIMIT]
    )
    total_limit = IntegerField("Submissions per participant in all", validators=[Optional(), LIMIT])
    final_selections = IntegerField(
        "Final selections", default=2, validators=[InputRequired(), NumberRange(min=1, max=20)]
    )
    live = BooleanField(
        "Live: also serve pending.csv, the task's lumisections still to certify, and take live predictions on them "
        "(scored on the labels approved after each was posted)"
    )
    live_daily_limit = IntegerField(
        "Live predictions per participant per UTC day (live only)", default=1, validators=[Optional(), LIMIT]
    )
    submit = SubmitField("Create competition")


class FinalPhaseForm(FlaskForm):
    """A final phase built from a labelling task's runs approved after a cutoff."""

    name = StringField("Phase name", default="final", validators=[DataRequired(), Length(max=50)])
    task = SelectField("Labelling task", coerce=int)
    approved_after = DateTimeLocalField(
        "Runs approved after (UTC)", validators=[InputRequired()], format="%Y-%m-%dT%H:%M"
    )
    opens_at = DateTimeLocalField("Opens at (UTC)", validators=[InputRequired()], format="%Y-%m-%dT%H:%M")
    closes_at = DateTimeLocalField("Closes at (UTC, optional)", validators=[Optional()], format="%Y-%m-%dT%H:%M")
    submit = SubmitField("Publish the runs and add the phase")


class TeamForm(FlaskForm):
    """A new team's name."""

    name = StringField("Team name", validators=[DataRequired("Name the team."), Length(max=100)])
    submit = SubmitField("Create the team")


class MergeForm(FlaskForm):
    """A leader's proposal to merge with another team, and which of the two stays."""

    other = SelectField("Team", coerce=int)
    keep = SelectField(
        "The team that stays (its name, leader and invite link)",
        choices=[SelectChoice("ours", "ours"), SelectChoice("theirs", "theirs")],
    )
    submit = SubmitField("Ask to merge")
