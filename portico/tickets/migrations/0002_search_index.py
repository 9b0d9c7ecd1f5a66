"""The full-text index of ticket search (PostgreSQL only; SQLite searches without one)."""

from django.contrib.postgres.search import SearchVector
from django.db import migrations


def search_vector() -> SearchVector:
    """The indexed expression as this migration built it (frozen here: searches now read the stored
    column of 0006_search_vector)."""
    return SearchVector("search_text", config="simple")


class SearchIndex(migrations.operations.base.Operation):
    reduces_to_sql = True
    reversible = True
    name = "ticket_search"

    def state_forwards(self, app_label, state):
        pass

    def _sql(self, schema_editor, model) -> str:
        from django.db.models.sql import Query

        query = Query(model)
        compiler = query.get_compiler(connection=schema_editor.connection)
        sql, params = search_vector().resolve_expression(query).as_sql(compiler, schema_editor.connection)
        return schema_editor.quote_name(self.name), sql, params

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return
        model = to_state.apps.get_model("tickets", "Ticket")
        name, sql, params = self._sql(schema_editor, model)
        table = schema_editor.quote_name(model._meta.db_table)
        schema_editor.execute(f"CREATE INDEX {name} ON {table} USING gin ({sql})", params)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(self.name)}")

    def describe(self):
        return "Full-text index of ticket search (PostgreSQL)"


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_tickets")]
    operations = [SearchIndex()]
