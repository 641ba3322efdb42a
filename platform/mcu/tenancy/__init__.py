"""Tenancy: loading district YAML, JSON Schema validation, region merge, TenantConfig."""
