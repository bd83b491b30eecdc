"""`market-pos` commands, run in-process on real data directories."""
import json

from click.testing import CliRunner

from pos import access, db, stall
from pos.cli import main


def test_init_creates_a_stall_with_an_owner_pin(tmp_path):
    result = CliRunner().invoke(main, ["init", "--data", str(tmp_path / "s"), "--pin", "2468"])
    assert result.exit_code == 0, result.output
    conn = db.connect(stall.database_path(tmp_path / "s"))
    assert access.unlock(conn, "2468") == "owner"
    again = CliRunner().invoke(main, ["init", "--data", str(tmp_path / "s")])
    assert again.exit_code == 0
    assert access.unlock(conn, "2468") == "owner"


def test_init_refuses_a_bad_pin(tmp_path):
    result = CliRunner().invoke(main, ["init", "--data", str(tmp_path / "s"), "--pin", "12"])
    assert result.exit_code != 0
    assert "4 to 8 digits" in result.output


def test_data_directory_from_the_environment(tmp_path):
    result = CliRunner().invoke(main, ["init"], env={"MARKET_POS_DATA": str(tmp_path / "env")})
    assert result.exit_code == 0
    assert (tmp_path / "env" / stall.DATABASE_NAME).exists()


def test_token_works_for_the_api(tmp_path):
    data = tmp_path / "s"
    result = CliRunner().invoke(main, ["token", "--data", str(data)])
    token = result.output.strip()
    assert token.startswith("mp_")
    from pos.app import create_app
    client = create_app({"DATA_DIR": data}).test_client()
    assert client.get("/api/products", headers={"Authorization": f"Bearer {token}"}) \
        .status_code == 200
    conn = db.connect(stall.database_path(data))
    assert token not in str([tuple(r) for r in conn.execute("SELECT * FROM api_tokens")])


def test_vietqr_commands():
    runner = CliRunner()
    encoded = runner.invoke(main, ["vietqr", "encode", "--bank", "970436", "--account",
                                   "0011001932418", "--amount", "180000", "--message",
                                   "Sạp A12 đơn 7"])
    assert encoded.exit_code == 0, encoded.output
    payload = encoded.output.strip()
    decoded = runner.invoke(main, ["vietqr", "decode", payload])
    fields = json.loads(decoded.output)
    assert fields["bank_bin"] == "970436"
    assert fields["account"] == "0011001932418"
    assert fields["amount"] == 180000
    assert fields["message"] == "Sap A12 don 7"
    assert fields["point_of_initiation"] == "12"
    bad = runner.invoke(main, ["vietqr", "decode", payload[:-1] + "0"])
    assert bad.exit_code != 0


def test_every_command_is_documented_in_the_readme():
    from pathlib import Path
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for name in main.commands:
        assert f"market-pos {name}" in readme, f"market-pos {name} is not in README.md"


def test_receipt_command_writes_a_pdf(app, data_dir, conn, tmp_path):
    from pos import sales
    sale = sales.record_sale(conn, app.config["DEVICE_ID"], {
        "lines": [{"product_id": 1, "quantity": "1"}],
        "payments": [{"method": "cash", "amount": 120000}]}, "owner")
    out = tmp_path / "r.pdf"
    result = CliRunner().invoke(main, ["receipt", sale["id"], "--width", "58", "-o", str(out),
                                       "--data", str(data_dir)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    missing = CliRunner().invoke(main, ["receipt", "nope", "-o", str(out), "--data",
                                        str(data_dir)])
    assert missing.exit_code != 0 and "No sale" in missing.output
