"""What every form of the app shares: Chinese built-in messages, checkbox lists."""
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
