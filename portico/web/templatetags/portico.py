"""Template helpers shared by every page."""

from django import forms, template

register = template.Library()


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters replaced (for pagination links)."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        query[key] = value
    return query.urlencode()


@register.filter
def bootstrap(field):
    """Render a bound field with Bootstrap's classes and its validity state."""
    widget = field.field.widget
    css = "form-check-input" if isinstance(widget, forms.CheckboxInput) else (
        "form-select" if isinstance(widget, forms.Select) else "form-control"
    )
    if field.errors:
        css += " is-invalid"
    return field.as_widget(attrs={"class": css})
