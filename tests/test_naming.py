from compiler.naming import camel_case, pascal_case, python_identifier, ts_property_key


def test_python_identifiers():
    assert python_identifier("processing_completed") == "processing_completed"
    assert python_identifier("class") == "class_"
    assert python_identifier("match") == "match_"
    assert python_identifier("3d_view") == "_3d_view"


def test_typescript_names():
    assert camel_case("processing_completed") == "processingCompleted"
    assert camel_case("ad_click") == "adClick"
    assert pascal_case("low_credits_topup_clicked") == "LowCreditsTopupClicked"
    assert camel_case("delete") == "delete_"
    assert ts_property_key("$session_id") == "$session_id"
    assert ts_property_key("0-10s") == '"0-10s"'


def test_names_built_from_any_plans_layers_and_events():
    # Layer names become tracker classes in both languages, whatever the plan calls them.
    assert pascal_case("mobile_web") + "Tracker" == "MobileWebTracker"
    assert pascal_case("kiosk") + "Tracker" == "KioskTracker"
    assert camel_case("ride_booked") == "rideBooked"
    assert python_identifier("ride-booked.v2") == "ride_booked_v2"
    assert pascal_case("2fa_verified") == "_2faVerified"
    assert camel_case("import") == "import_"
