"""The Structs' OpenAPI schemas say what the Structs refuse (:class:`StructSchemas`).

Plugged into the app beside the built-in Struct plugin (server/app.py); the rest of the
document's making is in openapi.py.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import msgspec
from litestar.openapi.spec import OpenAPIType, Reference, Schema
from litestar.plugins import OpenAPISchemaPlugin

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.typing import FieldDefinition


class StructSchemas(OpenAPISchemaPlugin):
    r"""Structs' schemas say what the Structs refuse, in the document's regex dialect.

    Patterns: msgspec constraints end in ``\Z`` (lib/validation.py), which ECMA-262, the
    dialect of OpenAPI's ``pattern``, reads as a literal ``Z``; here they end in ``$``,
    which means the same there.

    Request bodies (Structs with ``forbid_unknown_fields``): Litestar's schema leaves out
    two refusals, so clients and fuzzers take refused bodies for valid: unknown fields (a
    400 naming the field): here ``additionalProperties: false``; and the constraints of a
    list's items (``leaderboards: list[BoardId]`` lost the slug pattern): here put back
    on ``items``.

    Optional fields (``reset: Reset | UnsetType``): Litestar leaves the one type that is
    not ``UNSET`` as a oneOf of one member, which generated clients name ``…Type0``; here
    the property is that member.

    Litestar asks the app's schema plugins before its own: this one lets the built-in
    Struct plugin build the schema, then completes it.
    """

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return not field_definition.is_union and field_definition.is_subclass_of(msgspec.Struct)

    def to_openapi_schema(
        self, field_definition: FieldDefinition, schema_creator: SchemaCreator
    ) -> Schema:
        builtin = next(
            plugin
            for plugin in schema_creator.plugins
            if plugin is not self and schema_creator.plugin_supports_field(plugin, field_definition)
        )
        schema = builtin.to_openapi_schema(field_definition, schema_creator)
        if field_definition.type_.__struct_config__.forbid_unknown_fields:
            schema.additional_properties = False
            info = msgspec.inspect.type_info(field_definition.type_)
            assert isinstance(info, msgspec.inspect.StructType)
            for field in info.fields:
                prop = (schema.properties or {}).get(field.encode_name)
                for array, items in _list_items(prop, field.type):
                    _constrain(array, items)
        for name, prop in (schema.properties or {}).items():
            _ecma_patterns(prop)
            assert schema.properties is not None
            schema.properties[name] = _without_lone_one_of(prop)
        return schema


def _without_lone_one_of(prop: Schema | Reference) -> Schema | Reference:
    """A property whose oneOf has one member: that member, with the property's own fields."""
    if not isinstance(prop, Schema) or not prop.one_of or len(prop.one_of) != 1:
        return prop
    (member,) = prop.one_of
    own = {
        field.name: getattr(prop, field.name)
        for field in dataclasses.fields(prop)
        if field.name != "one_of" and getattr(prop, field.name) is not None
    }
    if isinstance(member, Reference):
        return prop if own else member  # a reference with nothing beside it
    return dataclasses.replace(member, **own)


def ecma_pattern(pattern: str) -> str:
    r"""A Python pattern as the document states it: a closing ``\Z`` becomes ``$``."""
    return pattern[:-2] + "$" if pattern.endswith("\\Z") else pattern


def _ecma_patterns(schema: Schema | Reference) -> None:
    """Every pattern in a property's schema (its items, its oneOf members) in ECMA's terms.

    Nested Structs are references: their own schemas pass through this plugin.
    """
    if not isinstance(schema, Schema):
        return
    if schema.pattern is not None:
        schema.pattern = ecma_pattern(schema.pattern)
    for member in (*(schema.one_of or ()), *(schema.any_of or ()), *(schema.all_of or ())):
        _ecma_patterns(member)
    if isinstance(schema.items, Schema):
        _ecma_patterns(schema.items)


def _list_items(
    prop: Schema | Reference | None, kind: msgspec.inspect.Type
) -> list[tuple[Schema, msgspec.inspect.Type]]:
    """The array schemas of a property (itself, or a member of its oneOf) with their items."""
    if isinstance(kind, msgspec.inspect.Metadata):
        kind = kind.type
    if not isinstance(prop, Schema):
        return []
    if isinstance(kind, msgspec.inspect.UnionType):
        members = [t for t in kind.types if not isinstance(t, msgspec.inspect.NoneType)]
        return [
            found
            for option in prop.one_of or []
            for member in members
            for found in _list_items(option, member)
        ]
    if isinstance(kind, msgspec.inspect.ListType) and prop.type == OpenAPIType.ARRAY:
        return [(prop, kind.item_type)]
    return []


def _constrain(array: Schema, item: msgspec.inspect.Type) -> None:
    if isinstance(item, msgspec.inspect.Metadata):
        item = item.type
    if not isinstance(item, msgspec.inspect.StrType) or not isinstance(array.items, Schema):
        return
    # A new Schema: Litestar may share the one it made for the item type.
    array.items = dataclasses.replace(
        array.items,
        pattern=item.pattern or array.items.pattern,
        min_length=item.min_length or array.items.min_length,
        max_length=item.max_length or array.items.max_length,
    )
