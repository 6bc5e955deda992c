"""What every form of the app shares: Chinese built-in messages, checkbox lists, refusals."""
from flask import flash
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField
from wtforms.meta import DefaultMeta
from wtforms.widgets import CheckboxInput, ListWidget


class ChineseForm(FlaskForm):
    """A Flask-WTF form whose built-in messages ("不是有效的整数。") are in Chinese."""

    class Meta:
        locales = ("zh",)

        def get_translations(self, form):
            # Flask-WTF only translates through Flask-Babel, which the app does not use;
            # WTForms ships its own Chinese catalogue for the messages we do not write.
            return DefaultMeta.get_translations(self, form)


class MultiCheckboxField(SelectMultipleField):
    """Several choices shown as checkboxes, which work better than a multi-select on a phone."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def show_error(form, exc: Exception, *, flash_otherwise: bool = True) -> bool:
    """Show a domain refusal under the field it names (its ``field``), else at the top of the page.

    Returns whether it found the field.
    """
    name = getattr(exc, "field", "")
    if name and name in form:
        form[name].errors = [*form[name].errors, str(exc)]
        return True
    if flash_otherwise:
        flash(str(exc), "danger")
    return False
